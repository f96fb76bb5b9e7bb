"""`jikimi run` and `jikimi send`: refusals and failures at start-up say what went wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.commands import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["run", "send"])
def test_a_bot_command_without_a_token_says_how_to_give_one(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run, "configure_logging", lambda **_kwargs: None)  # keep pytest's
    monkeypatch.delenv("JIKIMI_TELEGRAM__TOKEN", raising=False)
    monkeypatch.setenv("JIKIMI_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert cli([command]) == 2
    assert "JIKIMI_TELEGRAM__TOKEN" in capsys.readouterr().out


def test_a_worker_that_cannot_start_logs_one_redacted_json_line(tmp_path: Path) -> None:
    """An unreachable Bot API at start-up is logged through the redacting handler, not raw.

    The API base lacks its scheme, so aiohttp fails on the very URL that carries the token.
    """
    token = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    env = {
        **os.environ,
        "JIKIMI_LOG_JSON": "true",
        "JIKIMI_TELEGRAM__TOKEN": token,
        "JIKIMI_TELEGRAM__API_BASE": "127.0.0.1:9",
        "JIKIMI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'jikimi.db'}",
        "JIKIMI_MEDIA_DIR": str(tmp_path / "media"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert token.split(":")[1] not in done.stdout + done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    crash = entries[-1]
    assert crash["level"] == "CRITICAL"
    assert crash["message"] == "jikimi run stopped by an unexpected error"
    assert "bot<token>" in crash["exception"]
