"""``jikimi purge``, ``jikimi backup`` and ``jikimi restore``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

from bot.commands import maintenance
from bot.commands.maintenance import backup_sqlite, purge, restore_sqlite, sqlite_path
from bot.settings import Settings
from storage.engine import is_sqlite
from storage.models.reports import MediaStatus, Report, ReportMedia
from storage.models.updates import ProcessedUpdate
from storage.reports import add_media, create_report

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def main(argv: list[str]) -> int:
    """Run the maintenance commands as ``jikimi`` would."""
    parser = argparse.ArgumentParser(prog="jikimi")
    maintenance.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


async def _seed(session_factory: async_sessionmaker[Any], media_dir: Path) -> None:
    """One expired report with a photo and a location, one recent report, update ids."""
    (media_dir / "ab").mkdir(parents=True)
    (media_dir / "ab" / "photo.jpg").write_bytes(b"\xff\xd8 jpeg")
    async with session_factory() as session, session.begin():
        old = await create_report(
            session=session,
            report=Report(
                text="연기가 나요",
                latitude=37.5665351,
                longitude=126.9779692,
                created_at=NOW - timedelta(days=40),
            ),
        )
        assert old.id is not None
        await add_media(
            session=session,
            media=ReportMedia(
                report_id=old.id, kind="photo", sha256="ab" * 32, path="ab/photo.jpg", size=8
            ),
        )
        await create_report(
            session=session,
            report=Report(text="물이 차요", latitude=37.4, longitude=126.7, created_at=NOW),
        )
        session.add(ProcessedUpdate(bot_id=1, update_id=1, processed_at=NOW - timedelta(days=3)))
        session.add(ProcessedUpdate(bot_id=1, update_id=2, processed_at=NOW))


async def test_purge_dry_run_counts_and_changes_nothing(
    session_factory: async_sessionmaker[Any], database_url: str, tmp_path: Path
) -> None:
    """A dry run reports the expired report, its file and old update ids, and keeps them."""
    media_dir = tmp_path / "media"
    await _seed(session_factory, media_dir)
    settings = Settings(database_url=database_url, media_dir=media_dir, retention_days=30)
    result = await purge(settings, now=NOW, dry_run=True)
    summary = result.retention
    assert (summary.reports, summary.files, result.processed_updates) == (1, 1, 1)
    assert (media_dir / "ab" / "photo.jpg").exists()
    async with session_factory() as session:
        located = (await session.exec(select(Report).where(Report.latitude != None))).all()  # noqa: E711
        assert len(located) == 2
        assert len((await session.exec(select(ProcessedUpdate))).all()) == 2


async def test_purge_removes_expired_media_locations_and_update_ids(
    session_factory: async_sessionmaker[Any], database_url: str, tmp_path: Path
) -> None:
    """The real purge drops the old report's location and file and old update ids only."""
    media_dir = tmp_path / "media"
    await _seed(session_factory, media_dir)
    settings = Settings(database_url=database_url, media_dir=media_dir, retention_days=30)
    result = await purge(settings, now=NOW)
    summary = result.retention
    assert (summary.reports, summary.files, result.processed_updates) == (1, 1, 1)
    assert not (media_dir / "ab" / "photo.jpg").exists()
    async with session_factory() as session:
        reports = {r.text: r for r in (await session.exec(select(Report))).all()}
        assert reports[None].latitude is None
        assert reports[None].location_purged_at is not None
        assert reports["물이 차요"].latitude == 37.4
        media = (await session.exec(select(ReportMedia))).one()
        assert media.status == MediaStatus.PURGED and media.path is None
        ids = [u.update_id for u in (await session.exec(select(ProcessedUpdate))).all()]
        assert ids == [2]
    again = await purge(settings, now=NOW, dry_run=True)
    assert (again.retention.reports, again.retention.files, again.processed_updates) == (0, 0, 0)


def test_purge_command_prints_what_it_would_do(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """``jikimi purge --dry-run`` prints the counts and says nothing changed."""
    monkeypatch.setenv("JIKIMI_MEDIA_DIR", str(tmp_path / "media"))
    assert main(["purge", "--dry-run", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "would purge: words, precise locations, media and citizen links of 0 reports" in out
    assert "would purge: the Telegram user number, language and consent of 0 citizens" in out
    assert "dry run: nothing was changed" in out


def _stored(media_dir: Path, digest: str, age: timedelta, suffix: str = ".jpg") -> str:
    """Write a file as the media store names it, last written ``age`` before NOW."""
    relative = f"{digest[:2]}/{digest}{suffix}"
    path = media_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 jpeg")
    moment = (NOW - age).timestamp()
    os.utime(path, (moment, moment))
    return relative


async def _orphans_and_keepers(
    session_factory: async_sessionmaker[Any], media_dir: Path
) -> tuple[str, list[Path]]:
    """One old file no row names, and the files the purge must keep; return both."""
    orphan = _stored(media_dir, "cd" * 32, timedelta(days=3))
    used = _stored(media_dir, "ef" * 32, timedelta(days=3))
    young = _stored(media_dir, "12" * 32, timedelta(hours=2))
    foreign = media_dir / "notes" / ("34" * 32)  # not named as the store names its files
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"mine")
    os.utime(foreign, (0, 0))
    async with session_factory() as session, session.begin():
        report = await create_report(session=session, report=Report(text="사진", created_at=NOW))
        assert report.id is not None
        await add_media(
            session=session,
            media=ReportMedia(
                report_id=report.id, kind="photo", sha256="ef" * 32, path=used, size=8
            ),
        )
    return orphan, [media_dir / used, media_dir / young, foreign]


async def test_purge_deletes_old_media_files_no_report_names(
    session_factory: async_sessionmaker[Any], database_url: str, tmp_path: Path
) -> None:
    """A stored file a replaced database left behind goes once a day old; a file a report
    names, a young one and a file the store did not name stay; a dry run only lists."""
    media_dir = tmp_path / "media"
    orphan, keepers = await _orphans_and_keepers(session_factory, media_dir)
    settings = Settings(database_url=database_url, media_dir=media_dir, retention_days=30)
    listed = await purge(settings, now=NOW, dry_run=True)
    assert listed.orphan_files == [orphan] and (media_dir / orphan).exists()
    purged = await purge(settings, now=NOW)
    assert purged.orphan_files == [orphan]
    assert not (media_dir / orphan).exists()
    assert all(path.exists() for path in keepers)
    assert (await purge(settings, now=NOW)).orphan_files == []


async def test_purge_dry_run_command_lists_the_orphan_files(
    session_factory: async_sessionmaker[Any],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """``jikimi purge --dry-run`` names each orphan file under the media directory."""
    media_dir = tmp_path / "media"
    orphan = _stored(media_dir, "cd" * 32, timedelta(days=400))
    monkeypatch.setenv("JIKIMI_MEDIA_DIR", str(media_dir))
    assert (
        await asyncio.to_thread(main, ["purge", "--dry-run", "--database-url", database_url]) == 0
    )
    out = capsys.readouterr().out
    assert f"would purge: 1 files in {media_dir} that no report names" in out
    assert f"  {media_dir / orphan}" in out
    assert (media_dir / orphan).exists()


async def test_backup_and_restore_round_trip(
    session_factory: async_sessionmaker[Any], database_url: str, tmp_path: Path
) -> None:
    """A backup taken while the database is open restores the rows it held."""
    if not is_sqlite(database_url):
        pytest.skip("backup/restore is for SQLite; PostgreSQL uses pg_dump")
    await _seed(session_factory, tmp_path / "media")
    database = sqlite_path(database_url)
    backup = tmp_path / "backups" / "jikimi.db"
    backup_sqlite(database, backup)
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM report_media")
        connection.execute("DELETE FROM report")
    connection.close()
    restore_sqlite(backup, database)
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM report").fetchone()
    connection.close()
    assert count == 2


def test_backup_commands(database_url: str, tmp_path: Path, capsys: Any) -> None:
    """The CLI backs up and restores SQLite, refuses a file that is not a jikimi database."""
    if not is_sqlite(database_url):
        pytest.skip("backup/restore is for SQLite; PostgreSQL uses pg_dump")
    target = tmp_path / "copy.db"
    assert main(["backup", str(target), "--database-url", database_url]) == 0
    assert target.exists()
    assert main(["restore", str(target), "--database-url", database_url]) == 0
    stranger = tmp_path / "other.db"
    sqlite3.connect(stranger).close()
    assert main(["restore", str(stranger), "--database-url", database_url]) == 2
    assert "not a jikimi database" in capsys.readouterr().out


def test_backup_refuses_postgresql(capsys: Any, tmp_path: Path) -> None:
    """PostgreSQL is backed up with pg_dump, not by this command."""
    url = "postgresql+asyncpg://jikimi@127.0.0.1/jikimi"
    assert main(["backup", str(tmp_path / "x.db"), "--database-url", url]) == 2
    assert "pg_dump" in capsys.readouterr().out


def _sqlite_only(database_url: str) -> None:
    if not is_sqlite(database_url):
        pytest.skip("backup/restore is for SQLite; PostgreSQL uses pg_dump")


def test_restore_refuses_a_backup_from_a_newer_jikimi(
    database_url: str, tmp_path: Path, capsys: Any
) -> None:
    """A revision this code does not know is not restored over the database."""
    _sqlite_only(database_url)
    backup = tmp_path / "future.db"
    assert main(["backup", str(backup), "--database-url", database_url]) == 0
    with contextlib.closing(sqlite3.connect(backup)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_future'")
    assert main(["restore", str(backup), "--database-url", database_url]) == 2
    assert "0099_future" in capsys.readouterr().out


def test_restore_refuses_while_a_worker_runs_unless_forced(
    database_url: str, tmp_path: Path, capsys: Any
) -> None:
    """A live scheduler lease means a worker uses the database: restore waits for --force."""
    _sqlite_only(database_url)
    backup = tmp_path / "copy.db"
    assert main(["backup", str(backup), "--database-url", database_url]) == 0
    until = (datetime.now(UTC) + timedelta(seconds=30)).replace(tzinfo=None)
    with contextlib.closing(sqlite3.connect(sqlite_path(database_url))) as connection, connection:
        connection.execute(
            "INSERT INTO scheduler_lease (name, owner, until) VALUES ('scheduler', 'vm:42', ?)",
            (until.isoformat(sep=" "),),
        )
    assert main(["restore", str(backup), "--database-url", database_url]) == 2
    assert "worker vm:42 is running" in capsys.readouterr().out
    assert main(["restore", str(backup), "--database-url", database_url, "--force"]) == 0


def test_backup_finishes_while_the_bot_keeps_writing(tmp_path: Path) -> None:
    """A steady trickle of writes does not keep an online backup from finishing."""
    database = tmp_path / "busy.db"
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        connection.execute("CREATE TABLE filler (data BLOB)")
        connection.executemany(
            "INSERT INTO filler VALUES (?)", [(bytes(4096),) for _ in range(4000)]
        )
    stop = threading.Event()

    def write() -> None:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            while not stop.is_set():
                with connection:
                    connection.execute("INSERT INTO filler VALUES (x'00')")
                time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    copying = threading.Thread(target=backup_sqlite, args=(database, tmp_path / "copy.db"))
    try:
        copying.start()
        copying.join(timeout=60)
        assert not copying.is_alive(), "the backup never finished"
    finally:
        stop.set()
        writer.join()
        copying.join()


def test_restore_of_a_missing_file_says_so_and_creates_nothing(
    database_url: str, tmp_path: Path, capsys: Any
) -> None:
    """A mistyped backup path is named as missing, and no empty file appears in its place."""
    _sqlite_only(database_url)
    missing = tmp_path / "jikimi-2026-11-21.db"
    assert main(["restore", str(missing), "--database-url", database_url]) == 2
    assert f"no backup file at {missing}" in capsys.readouterr().out
    assert not missing.exists()


def test_restore_of_a_file_that_is_not_a_database_names_it(
    database_url: str, tmp_path: Path, capsys: Any
) -> None:
    """A text file offered as a backup is refused with its name."""
    _sqlite_only(database_url)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup\n")
    assert main(["restore", str(notes), "--database-url", database_url]) == 2
    assert f"{notes} is not a SQLite database" in capsys.readouterr().out


def test_backup_of_a_missing_database_names_the_setting(tmp_path: Path, capsys: Any) -> None:
    """Backing up a database that does not exist says where it looked and what to check."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"
    assert main(["backup", str(tmp_path / "copy.db"), "--database-url", url]) == 2
    said = capsys.readouterr().out
    assert f"no database at {tmp_path / 'nothing.db'}" in said and "JIKIMI_DATABASE_URL" in said
