"""``jikimi export incidents``: its options are checked before any database work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.commands.export import iso_moment


def test_a_since_that_is_not_a_date_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--since yesterday`` is answered like any bad option: one line, exit 2."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'jikimi.db'}"
    with pytest.raises(SystemExit) as stopped:
        cli(["export", "incidents", "--since", "yesterday", "--database-url", url])
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert "argument --since: 'yesterday' is not an ISO date" in said
    assert "Traceback" not in said


def test_since_is_utc_unless_it_names_a_zone() -> None:
    """A bare date is midnight UTC; an offset is kept."""
    assert iso_moment("2026-11-21") == datetime(2026, 11, 21, tzinfo=UTC)
    seoul = timezone(timedelta(hours=9))
    assert iso_moment("2026-11-21T09:00+09:00") == datetime(2026, 11, 21, 9, tzinfo=seoul)
