"""`jikimi run` and `jikimi send`: refusals and failures at start-up say what went wrong."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    assert "JIKIMI_TELEGRAM__TOKEN" in capsys.readouterr().err


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
        "JIKIMI_STAFF_CHAT_ID": "-1001",
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
    assert crash["level"] == "ERROR"
    assert crash["message"].startswith("jikimi run: cannot reach the Bot API")
    assert "bot<token>" in crash["message"] and "exception" not in crash


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records the CLI logged for a failed command."""
    return [record for record in caplog.records if record.name == "jikimi"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+asyncpg://postgres@127.0.0.1:1/jikimi", "cannot connect to the database"),
        ("sqlite+aiosqlite:////proc/jikimi/jikimi.db", "cannot connect to the database"),
        ("mysql://jikimi@127.0.0.1/jikimi", "invalid database URL"),
        ("not a url", "invalid database URL"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_not_a_traceback(
    url: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A database down or misnamed is told in one line naming the setting, and exit 1."""
    assert cli(["db", "upgrade", "--database-url", url]) == 1
    (record,) = _problems(caplog)
    assert said in record.getMessage()
    assert "JIKIMI_DATABASE_URL" in record.getMessage() or "sqlite+aiosqlite" in record.getMessage()
    assert record.exc_info is None and "\n" not in record.getMessage()


def test_a_worker_on_an_unmigrated_database_says_to_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``jikimi run`` before ``jikimi db upgrade`` says so, without a traceback."""
    monkeypatch.setattr(run, "configure_logging", lambda **_kwargs: None)  # keep pytest's
    monkeypatch.setenv("JIKIMI_TELEGRAM__TOKEN", "123456:TEST")
    monkeypatch.setenv("JIKIMI_STAFF_CHAT_ID", "-1001")
    monkeypatch.setenv("JIKIMI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("JIKIMI_EVENT_LOOP", "asyncio")
    assert cli(["run"]) == 1
    (record,) = _problems(caplog)
    assert "run `jikimi db upgrade`" in record.getMessage()
    assert record.exc_info is None


def test_a_setting_that_does_not_parse_is_named(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong value in the environment names its variable in one line."""
    monkeypatch.setenv("JIKIMI_STAFF_CHAT_ID", "the staff room")
    assert cli(["staff", "list"]) == 1
    (record,) = _problems(caplog)
    assert "invalid settings: JIKIMI_STAFF_CHAT_ID" in record.getMessage()
    assert record.exc_info is None


def test_a_worker_without_a_staff_supergroup_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reports would reach no one: ``jikimi run`` says which setting is missing."""
    monkeypatch.setattr(run, "configure_logging", lambda **_kwargs: None)
    monkeypatch.setenv("JIKIMI_TELEGRAM__TOKEN", "123456:TEST")
    monkeypatch.delenv("JIKIMI_STAFF_CHAT_ID", raising=False)
    monkeypatch.setenv("JIKIMI_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert cli(["run"]) == 2
    assert "JIKIMI_STAFF_CHAT_ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://bot.example.org/telegram", "is not https"),
        ("https://bot.example.org:8080/telegram", "port 8080"),
        ("bot.example.org/telegram", "is not a full URL"),
    ],
)
def test_a_webhook_telegram_would_refuse_is_refused_at_start(
    url: str, said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Telegram calls only https on 443, 80, 88 or 8443: said before anything starts."""
    monkeypatch.setattr(run, "configure_logging", lambda **_kwargs: None)
    monkeypatch.setenv("JIKIMI_TELEGRAM__TOKEN", "123456:TEST")
    monkeypatch.setenv("JIKIMI_STAFF_CHAT_ID", "-1001")
    monkeypatch.delenv("JIKIMI_TELEGRAM__API_BASE", raising=False)
    monkeypatch.setenv("JIKIMI_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert cli(["run", "--webhook", url]) == 2
    assert said in capsys.readouterr().err


def test_a_local_bot_api_server_may_call_a_plain_http_webhook() -> None:
    """A local Bot API server (or the sandbox) calls http on any port; Telegram does not."""
    url = "http://10.0.0.11:8081/telegram"
    assert run.webhook_url_problem(url, api_base="http://127.0.0.1:8081") is None
    assert run.webhook_url_problem(url, api_base="https://api.telegram.org") is not None
    assert (
        run.webhook_url_problem("https://bot.example.org/t", api_base="https://api.telegram.org")
        is None
    )


async def test_a_token_the_bot_api_refuses_is_one_line(sandbox: Any, tmp_path: Path) -> None:
    """A wrong token is told as such, in one redacted JSON line, not as a crash."""
    token = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    env = {
        **os.environ,
        "JIKIMI_LOG_JSON": "true",
        "JIKIMI_TELEGRAM__TOKEN": token,
        "JIKIMI_TELEGRAM__API_BASE": sandbox.url,
        "JIKIMI_STAFF_CHAT_ID": "-1001",
        "JIKIMI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'jikimi.db'}",
        "JIKIMI_MEDIA_DIR": str(tmp_path / "media"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--migrate",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1
    assert token.split(":")[1] not in (out + err).decode()
    last = json.loads(err.decode().splitlines()[-1])
    assert last["level"] == "ERROR"
    assert "refused the bot token" in last["message"] and "exception" not in last
