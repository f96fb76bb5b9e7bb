"""`jikimi sandbox` (`make run`): starting while another demo holds the port."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.cli import main as cli
from bot.commands import sandbox
from bot.demo import DEMO_TOKEN
from bot.settings import Settings


def test_a_port_in_use_says_so_and_keeps_the_running_demos_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `make run` must not delete the first one's database before failing to bind."""
    monkeypatch.setattr(sandbox, "configure_logging", lambda **_kwargs: None)  # keep pytest's
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "var" / "demo.db"
    database.parent.mkdir()
    database.write_bytes(b"the running demo's data")
    photo = tmp_path / "var" / "demo-media" / "ab" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"the running demo's photo")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = cli(["sandbox", "--port", str(port)])
    assert code == 2
    assert database.read_bytes() == b"the running demo's data"
    assert photo.read_bytes() == b"the running demo's photo"
    out = capsys.readouterr()
    assert f"127.0.0.1:{port} is in use" in out.err
    assert "--port" in out.err
    assert "Traceback" not in out.out + out.err


class _Started(Exception):
    """Raised in place of the bot's runtime: the demo got as far as starting it."""


def _start_demo_until_the_runtime(
    monkeypatch: pytest.MonkeyPatch, database_url: str | None
) -> Settings:
    """Run `jikimi sandbox`'s start-up up to the bot's runtime; return the settings it built."""
    world = SimpleNamespace(token=DEMO_TOKEN, staff_chat_id=-1001, experts_hub_id=-1002)

    async def fake_world(_client: object) -> SimpleNamespace:
        return world

    async def fake_runtime(settings: Settings) -> None:
        raise _Started(settings)

    monkeypatch.setattr(sandbox, "build_demo_world", fake_world)
    monkeypatch.setattr(sandbox, "build_runtime", fake_runtime)
    settings = Settings()
    args = argparse.Namespace(database_url=database_url)
    server = SimpleNamespace(url="http://127.0.0.1:9")
    with pytest.raises(_Started):
        asyncio.run(sandbox._run_demo(args, settings, server))  # type: ignore[arg-type]
    return settings


def test_a_fresh_demo_starts_with_empty_media_and_never_touches_the_configured_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier demos' media go with their database; the media of a real database stay."""
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "var" / "demo-media" / "ab" / "old-demo-photo.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"a photo of an earlier demo")
    real = tmp_path / "var" / "media" / "cd" / "citizen-photo.jpg"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"a photo of the real database")

    settings = _start_demo_until_the_runtime(monkeypatch, None)
    assert settings.media_dir == Path("var/demo-media")
    assert list((tmp_path / "var" / "demo-media").rglob("*")) == []
    assert real.read_bytes() == b"a photo of the real database"


def test_a_demo_on_a_given_database_deletes_no_media(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --database-url the demo is not on a fresh database: its media stay where they are."""
    monkeypatch.chdir(tmp_path)
    kept = tmp_path / "var" / "demo-media" / "ab" / "photo.jpg"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"kept")
    url = f"sqlite+aiosqlite:///{tmp_path / 'mine.db'}"
    settings = _start_demo_until_the_runtime(monkeypatch, url)
    assert settings.media_dir == Settings().media_dir
    assert kept.read_bytes() == b"kept"
