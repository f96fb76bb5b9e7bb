"""``jikimi purge``, ``jikimi backup`` and ``jikimi restore``: retention and SQLite backups.

Usage::

    jikimi purge --dry-run          # what the retention rules would remove, nothing changed
    jikimi purge                    # remove it (words, places, files, citizen links, old payloads,
                                    # and media files no report names, a day old)
    jikimi backup var/backup.db     # online copy of the SQLite database (the bot may run)
    jikimi restore var/backup.db    # copy a backup over the database (stop the bot first)

PostgreSQL is backed up with ``pg_dump``/``pg_restore`` (see ``docs/operations.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.settings import Settings
from situation.privacy import ORPHAN_AGE, PurgeSummary, purge_expired, purge_orphan_files
from storage.engine import create_engine, create_session_factory, is_sqlite
from storage.models.updates import ProcessedUpdate
from storage.updates import purge_processed

PROCESSED_UPDATE_DAYS = 2
"""Telegram keeps an undelivered update for 24 hours: its id is remembered twice as long."""


@dataclass(frozen=True)
class MaintenanceSummary:
    """What ``jikimi purge`` removes (or would remove)."""

    retention: PurgeSummary
    processed_updates: int
    orphan_files: list[str]  # relative to the media directory


def register(subparsers: Any) -> None:
    """Register ``jikimi purge``, ``jikimi backup`` and ``jikimi restore``."""
    purge = subparsers.add_parser("purge", help="apply the retention rules (media, locations)")
    purge.add_argument("--dry-run", action="store_true", help="only print what would be purged")
    purge.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    purge.set_defaults(handler=_purge)
    backup = subparsers.add_parser("backup", help="copy the SQLite database to PATH (online)")
    backup.add_argument("path", type=Path)
    backup.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    backup.set_defaults(handler=_backup)
    restore = subparsers.add_parser("restore", help="replace the SQLite database with a backup")
    restore.add_argument("path", type=Path)
    restore.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    restore.add_argument(
        "--force", action="store_true", help="restore even though a worker seems to be running"
    )
    restore.set_defaults(handler=_restore)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if args.database_url:
        settings.database_url = args.database_url
    return settings


async def purge(
    settings: Settings, *, now: datetime | None = None, dry_run: bool = False
) -> MaintenanceSummary:
    """Apply (or, with ``dry_run``, count) the retention rules on the configured database."""
    moment = now or datetime.now(UTC)
    updates_cutoff = moment - timedelta(days=PROCESSED_UPDATE_DAYS)
    engine = create_engine(settings.database_url)
    try:
        session_factory = create_session_factory(engine)
        summary = await purge_expired(
            session_factory=session_factory,
            now=moment,
            retention_days=settings.retention_days,
            media_dir=settings.media_dir,
            dry_run=dry_run,
        )
        async with session_factory() as session, session.begin():
            if dry_run:
                statement = select(func.count()).where(
                    col(ProcessedUpdate.processed_at) < updates_cutoff
                )
                updates = (await session.exec(statement)).one()
            else:
                updates = await purge_processed(session=session, before=updates_cutoff)
        orphans = await purge_orphan_files(
            session_factory=session_factory,
            media_dir=settings.media_dir,
            now=moment,
            dry_run=dry_run,
        )
    finally:
        await engine.dispose()
    return MaintenanceSummary(retention=summary, processed_updates=updates, orphan_files=orphans)


def _purge(args: argparse.Namespace) -> int:
    settings = _settings(args)
    result = asyncio.run(purge(settings, dry_run=args.dry_run))
    summary = result.retention
    verb = "would purge" if args.dry_run else "purged"
    print(
        f"retention: {settings.retention_days} days"
        f" (data created before {summary.cutoff:%Y-%m-%d %H:%M} UTC)"
    )
    print(f"{verb}: words, precise locations, media and citizen links of {summary.reports} reports")
    print(f"{verb}: {summary.files} stored media files")
    print(f"{verb}: the centre of {summary.incident_places} incidents")
    print(f"{verb}: {summary.outbox_deleted} sent outbox messages (deleted)")
    print(f"{verb}: the contents of {summary.outbox_cleared} sent outbox messages (kept for ids)")
    print(f"{verb}: {summary.failed_updates} failed updates")
    print(
        f"{verb}: the Telegram user number, language and consent of {summary.citizens}"
        " citizens quiet since then, with no report still kept"
    )
    print(
        f"{verb}: {result.processed_updates} processed update ids"
        f" older than {PROCESSED_UPDATE_DAYS} days"
    )
    print(
        f"{verb}: {len(result.orphan_files)} files in {settings.media_dir} that no report"
        f" names, older than {ORPHAN_AGE.days} day(s)"
    )
    for relative in result.orphan_files if args.dry_run else ():
        print(f"  {settings.media_dir / relative}")
    if args.dry_run:
        print("dry run: nothing was changed")
    return 0


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database URL (ValueError for other databases or in-memory ones)."""
    if not is_sqlite(database_url):
        raise ValueError("backup/restore handle SQLite; back PostgreSQL up with pg_dump")
    database = make_url(database_url).database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise ValueError("an in-memory database cannot be backed up")
    return Path(database).expanduser()


def _check_copy(path: Path) -> None:
    """Refuse anything but an intact jikimi SQLite database, opening it read-only.

    Opened for writing, a path with no file behind it became an empty database file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no backup file at {path}")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            (result,) = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{path} is not a SQLite database ({error})") from error
    if result != "ok":
        raise ValueError(f"{path} failed the integrity check: {result}")
    if "alembic_version" not in tables:
        raise ValueError(f"{path} is not a jikimi database (no alembic_version table)")


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database to ``target`` with the online backup API, then verify it.

    In one step: copied in slices, every write of the running bot between two slices made
    SQLite start the copy over, and a steady trickle of reports kept it from ever finishing.
    One step reads a consistent snapshot (WAL: the bot goes on writing meanwhile).
    """
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source} (check JIKIMI_DATABASE_URL)")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    _check_copy(target)


def restore_sqlite(backup: Path, target: Path, *, force: bool = False) -> None:
    """Replace the database at ``target`` with a verified backup (stop every worker first).

    Refused when the backup comes from a newer jikimi (a revision this code does not know)
    and, unless ``force``, while a worker holds the scheduler's lease in ``target``.
    """
    _check_copy(backup)
    _check_revision(backup)
    if not force and (worker := running_worker(target, datetime.now(UTC))) is not None:
        raise ValueError(
            f"worker {worker} is running on {target}: stop every worker first (or --force)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _check_revision(backup: Path) -> None:
    """Refuse a backup whose schema revision this version of jikimi does not know."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = row[0] if row else None
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise ValueError(
            f"{backup} is at revision {revision or '(none)'}, which this version of jikimi does "
            "not know: restore it with the version that made it"
        )


def running_worker(database: Path, now: datetime) -> str | None:
    """The worker holding an unexpired scheduler lease in ``database``, if any."""
    if not database.exists():
        return None
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        try:
            rows = connection.execute("SELECT owner, until FROM scheduler_lease").fetchall()
        except sqlite3.OperationalError:  # a schema from before the lease
            return None
    for owner, until in rows:
        if until is not None and datetime.fromisoformat(str(until)).replace(tzinfo=UTC) > now:
            return str(owner)
    return None


def _backup(args: argparse.Namespace) -> int:
    try:
        source = sqlite_path(_settings(args).database_url)
        backup_sqlite(source, args.path)
    except (ValueError, FileNotFoundError, sqlite3.Error) as error:
        print(f"backup failed: {error}")
        return 2
    print(f"backed up {source} to {args.path} ({args.path.stat().st_size} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    try:
        target = sqlite_path(_settings(args).database_url)
        restore_sqlite(args.path, target, force=args.force)
    except (ValueError, FileNotFoundError, sqlite3.Error) as error:
        print(f"restore failed: {error}")
        return 2
    print(f"restored {target} from {args.path}")
    return 0 if _at_head(target) else _say_upgrade()


def _at_head(database: Path) -> bool:
    from storage.migrate import head

    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return bool(row) and row[0] == head()


def _say_upgrade() -> int:
    print("the backup predates this version of jikimi: run `jikimi db upgrade` before the bot")
    return 0
