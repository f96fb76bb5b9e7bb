"""The serving commands run on uvloop where it is installed, and on asyncio's loop on request."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from bot import event_loop
from bot.settings import Settings


async def _loop_kind() -> tuple[type[asyncio.AbstractEventLoop], str]:
    return type(asyncio.get_running_loop()), event_loop.running_loop_name()


def test_a_serving_command_runs_on_uvloop_by_default() -> None:
    loop_class, name = event_loop.run(_loop_kind(), loop=Settings().event_loop)
    assert issubclass(loop_class, uvloop.Loop)
    assert name == "uvloop"


def test_the_setting_chooses_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIKIMI_EVENT_LOOP", "asyncio")
    loop_class, name = event_loop.run(_loop_kind(), loop=Settings().event_loop)
    assert not issubclass(loop_class, uvloop.Loop)
    assert name == "asyncio"


def test_without_uvloop_installed_the_command_falls_back_to_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    assert event_loop.loop_factory("uvloop") is None
    _, name = event_loop.run(_loop_kind())
    assert name == "asyncio"


def test_an_unknown_loop_name_is_refused_with_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIKIMI_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="uvloop"):
        Settings()


def test_the_coroutines_result_comes_back() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert event_loop.run(answer()) == 42
