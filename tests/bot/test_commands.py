"""`jikimi run` and `jikimi send` refuse to start without a bot token and say how to give one."""

from __future__ import annotations

import pytest

from bot.cli import main as cli
from bot.commands import run


@pytest.mark.parametrize("command", ["run", "send"])
def test_a_bot_command_without_a_token_says_how_to_give_one(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run, "configure_logging", lambda **_kwargs: None)  # keep pytest's
    monkeypatch.delenv("JIKIMI_TELEGRAM__TOKEN", raising=False)
    monkeypatch.setenv("JIKIMI_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert cli([command]) == 2
    assert "JIKIMI_TELEGRAM__TOKEN" in capsys.readouterr().out
