"""``jikimi db current``: it reads a database, it never creates one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as cli


def test_current_of_a_missing_sqlite_file_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped path is named, exit 1, and no empty file is left there."""
    path = tmp_path / "jikimi-typo.db"
    assert cli(["db", "current", "--database-url", f"sqlite+aiosqlite:///{path}"]) == 1
    assert f"no database at {path}" in capsys.readouterr().err
    assert not path.exists()


def test_current_after_upgrade_names_the_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An upgraded file answers with its revision."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'jikimi.db'}"
    assert cli(["db", "upgrade", "--database-url", url]) == 0
    capsys.readouterr()
    assert cli(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip().startswith("00")
