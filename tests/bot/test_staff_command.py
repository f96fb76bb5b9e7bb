"""``jikimi staff add``: a team must be one the duty roster knows."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.commands import staff as staff_command

ROSTER = """
timezone = "Asia/Seoul"

[rotation]
anchor = "2026-01-01T09:00"
shift_hours = 12
teams = ["day", "night"]
"""


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="jikimi")
    staff_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["staff", *argv])


def test_a_team_the_roster_does_not_list_is_refused(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A typo in ``--team`` would leave the member never on duty: refused, nothing stored."""
    roster = tmp_path / "roster.toml"
    roster.write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("JIKIMI_SITUATION_ROOM__ROSTER_FILE", str(roster))
    added = _args("add", "501", "김하늘", "--team", "dya", "--database-url", database_url)
    assert added.handler(added) == 2
    said = capsys.readouterr().err
    assert "team 'dya' is not in the roster" in said and "day, night" in said

    listed = _args("list", "--database-url", database_url)
    assert listed.handler(listed) == 0
    assert "501" not in capsys.readouterr().out

    added = _args("add", "501", "김하늘", "--team", "day", "--database-url", database_url)
    assert added.handler(added) == 0
    assert listed.handler(listed) == 0
    assert "501\tstaff\tday\t김하늘" in capsys.readouterr().out


def test_without_a_roster_any_team_is_stored(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No roster file configured: there is nothing to check the team against."""
    monkeypatch.delenv("JIKIMI_SITUATION_ROOM__ROSTER_FILE", raising=False)
    added = _args("add", "502", "이도윤", "--team", "A", "--database-url", database_url)
    assert added.handler(added) == 0
    assert "이도윤 (502) is staff" in capsys.readouterr().out
