"""Personal data: /forget erases a citizen's, the retention timer purges what has expired.

Usage::

    releaser = FileReleaser(session_factory=factory, media_dir=dir)
    summary = await forget_citizen(
        session=session, telegram_user_id=42, releaser=releaser, now=now
    )  # its files go once the session commits
    purged = await purge_expired(
        session_factory=factory, now=now, retention_days=30, media_dir=dir, dry_run=False
    )
    orphans = await purge_orphan_files(session_factory=factory, media_dir=dir, now=now)

What stays after erasure or expiry is anonymous: incidents (scenario, district, times, counts;
their centre too until every report of theirs expired) and report skeletons (reference,
scenario, district, status, times) with no text, media, location or link to a person. Expiry
also drops settled outbox payloads and failed raw updates older than the retention period:
they hold the citizens' words and coordinates too (the consent message promises this). A
citizen quiet for longer than the retention period, with no report still within it and none
open, loses their Telegram user id, language and consent as on /forget.

Files in the media directory that no media row names (left by a database that was replaced,
such as the demo's before it had a directory of its own) are orphans: the purge deletes those
older than :data:`ORPHAN_AGE`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.file_release import FileReleaser
from storage import retention
from storage.chats import forget_chat
from storage.citizens import find_citizen, forget_command_messages, save_citizen
from storage.media import stored_files_before
from storage.models.reports import MediaStatus, Report
from storage.reports import (
    all_reports_of_citizen,
    media_of_report,
    messages_of_report,
    save_report,
)


@dataclass(frozen=True)
class ErasureSummary:
    """How much personal data was removed."""

    reports: int
    media: int


async def _purge_media(session: AsyncSession, report: Report, files: dict[str, str]) -> int:
    """Mark a report's media purged and add the files they held to ``files``; count the stored.

    A row keeps its file's hash and path until the file is released after the commit (see
    ``situation.file_release``): rolled back, row and file stay as they were.
    """
    assert report.id is not None
    stored = 0
    for media in await media_of_report(session=session, report_id=report.id):
        held = media.status in (MediaStatus.STORED, MediaStatus.PURGED)
        if held and media.sha256 and media.path:
            files[media.path] = media.sha256
            if media.status == MediaStatus.STORED:
                stored += 1
        else:
            media.sha256 = None
            media.path = None
        media.status = MediaStatus.PURGED
        media.file_id = None
        media.file_unique_id = None
        session.add(media)
    return stored


def _drop_location(report: Report, now: datetime) -> None:
    report.latitude = report.longitude = report.accuracy = None
    report.location_label = None
    report.live_message_id = None
    report.live_until = None
    report.live_unshown_since = None
    report.location_purged_at = now


async def forget_citizen(
    *, session: AsyncSession, telegram_user_id: int, releaser: FileReleaser, now: datetime
) -> ErasureSummary | None:
    """Erase a citizen's personal data, keeping anonymous incident records; None if unknown.

    The photos and files go once this transaction commits (``releaser``), not before: rolled
    back, the erasure leaves every row and file as it was.
    """
    citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
    if citizen is None or citizen.id is None:
        return None
    reports = list(await all_reports_of_citizen(session=session, citizen_id=citizen.id))
    media = 0
    files: dict[str, str] = {}
    for report in reports:
        media += await _purge_media(session, report, files)
        _drop_location(report, now)
        report.text = None
        report.sealed_at = report.sealed_at or now
        report.updated_at = now
        assert report.id is not None
        for message in await messages_of_report(session=session, report_id=report.id):
            message.text = None
            message.chat_id = None
            message.message_id = None
            message.forwarded_from = None  # a person's name (and handle), or a group's
            session.add(message)
        await save_report(session=session, report=report)
    await forget_chat(session=session, chat_id=telegram_user_id)  # keyed by their user id
    await forget_command_messages(session=session, citizen_id=citizen.id)
    citizen.telegram_user_id = None
    citizen.language = None
    citizen.language_chosen = False
    citizen.consent_at = None
    citizen.last_seen_at = None
    citizen.forgotten_at = now
    await save_citizen(session=session, citizen=citizen)
    releaser.release_after_commit(session, files)
    return ErasureSummary(reports=len(reports), media=media)


BATCH_REPORTS = 300
"""Reports anonymised per transaction: SQLite has one writer, and intake must get its turns."""

BATCH_ROWS = 2000
"""Outbox rows or failed updates deleted or cleared per transaction."""

BATCH_PAUSE = 0.02
"""Seconds between two batches: SQLite's busy handler of a waiting writer polls, and a purge
beginning its next transaction at once would win the write lock again and again."""


@dataclass(frozen=True)
class PurgeSummary:
    """What the retention purge removed (or, in a dry run, would remove)."""

    cutoff: datetime
    reports: int = 0
    files: int = 0
    incident_places: int = 0
    outbox_deleted: int = 0
    outbox_cleared: int = 0
    failed_updates: int = 0
    citizens: int = 0


async def _count(session_factory: async_sessionmaker[Any], cutoff: datetime) -> PurgeSummary:
    async with session_factory() as session, session.begin():
        return PurgeSummary(
            cutoff=cutoff,
            reports=await retention.count_expired_reports(session=session, before=cutoff),
            files=await retention.count_released_files(session=session, before=cutoff),
            incident_places=await retention.count_expired_incident_places(
                session=session, before=cutoff
            ),
            outbox_deleted=await retention.count_outbox_to_delete(session=session, before=cutoff),
            outbox_cleared=await retention.count_outbox_to_clear(session=session, before=cutoff),
            failed_updates=await retention.count_failed_updates(session=session, before=cutoff),
            citizens=await retention.count_idle_citizens(session=session, before=cutoff),
        )


async def _release(
    session_factory: async_sessionmaker[Any], media_dir: Path, files: dict[str, str]
) -> int:
    if not files:
        return 0
    async with session_factory() as session, session.begin():
        return await retention.release_files(session=session, media_dir=media_dir, files=files)


async def _repeat(session_factory: async_sessionmaker[Any], step: Any, cutoff: datetime) -> int:
    """Run a batched step in one transaction per batch until it touches nothing."""
    total = 0
    while True:
        async with session_factory() as session, session.begin():
            done = int(await step(session=session, before=cutoff, limit=BATCH_ROWS))
        total += done
        if done < BATCH_ROWS:
            return total
        await asyncio.sleep(BATCH_PAUSE)


async def _anonymise_citizens(
    session_factory: async_sessionmaker[Any], cutoff: datetime, now: datetime
) -> int:
    """Anonymise the quiet citizens in one transaction per batch; return how many."""
    total = 0
    while True:
        async with session_factory() as session, session.begin():
            looked_at, done = await retention.anonymise_idle_citizens(
                session=session, before=cutoff, limit=BATCH_ROWS, now=now
            )
        total += done
        if looked_at < BATCH_ROWS:
            return total
        await asyncio.sleep(BATCH_PAUSE)


ORPHAN_AGE = timedelta(days=1)
"""A stored file no row names is left this long: intake writes a file before its row commits."""
ORPHAN_BATCH = 500


async def purge_orphan_files(
    *,
    session_factory: async_sessionmaker[Any],
    media_dir: Path,
    now: datetime,
    dry_run: bool = False,
) -> list[str]:
    """Delete (or, with ``dry_run``, list) stored files older than :data:`ORPHAN_AGE` that no
    media row names; return their paths relative to ``media_dir``."""
    candidates = await stored_files_before(media_dir=media_dir, before=now - ORPHAN_AGE)
    paths = sorted(candidates)
    orphans: list[str] = []
    for start in range(0, len(paths), ORPHAN_BATCH):
        batch = {path: candidates[path] for path in paths[start : start + ORPHAN_BATCH]}
        async with session_factory() as session, session.begin():
            if dry_run:
                orphans += await retention.unused_files(session=session, files=batch)
            else:
                orphans += await retention.delete_orphan_files(
                    session=session, media_dir=media_dir, files=batch
                )
    return orphans


async def purge_expired(
    *,
    session_factory: async_sessionmaker[Any],
    now: datetime,
    retention_days: int,
    media_dir: Path,
    dry_run: bool = False,
    batch_size: int = BATCH_REPORTS,
) -> PurgeSummary:
    """Erase what the retention period allows no longer; a dry run counts it and changes nothing.

    Reports go in batches, each in its own transaction; the files they held are deleted after
    that commit (see ``storage.retention.release_files``). Citizens go after their reports: an
    expired report no longer holds its citizen.
    """
    cutoff = now - timedelta(days=retention_days)
    if dry_run:
        return await _count(session_factory, cutoff)
    async with session_factory() as session, session.begin():
        leftovers = await retention.pending_releases(session=session)
    files = await _release(session_factory, media_dir, leftovers)
    reports = 0
    while True:
        async with session_factory() as session, session.begin():
            ids = await retention.expired_report_ids(
                session=session, before=cutoff, limit=batch_size
            )
            held = await retention.anonymise_reports(session=session, report_ids=ids, now=now)
        reports += len(ids)
        files += await _release(session_factory, media_dir, held)
        if len(ids) < batch_size:
            break
        await asyncio.sleep(BATCH_PAUSE)
    async with session_factory() as session, session.begin():
        places = await retention.drop_incident_places(session=session, before=cutoff)
    citizens = await _anonymise_citizens(session_factory, cutoff, now)
    return PurgeSummary(
        cutoff=cutoff,
        reports=reports,
        files=files,
        incident_places=places,
        outbox_deleted=await _repeat(session_factory, retention.delete_outbox_rows, cutoff),
        outbox_cleared=await _repeat(session_factory, retention.clear_outbox_rows, cutoff),
        failed_updates=await _repeat(session_factory, retention.delete_failed_updates, cutoff),
        citizens=citizens,
    )
