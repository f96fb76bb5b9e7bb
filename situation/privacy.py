"""Personal data: /forget erases a citizen's, the retention timer purges old media and locations.

Usage::

    summary = await forget_citizen(session=session, telegram_user_id=42, media_dir=dir, now=now)
    purged = await purge_expired(session=session, now=now, retention_days=30, media_dir=dir)

What stays after erasure is anonymous: incidents (scenario, district, centre, times, counts) and
report skeletons (reference, scenario, district, status, times) with no text, media, location
or link to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.citizens import find_citizen, save_citizen
from storage.media import delete_file
from storage.models.reports import MediaStatus, Report
from storage.reports import (
    all_reports_of_citizen,
    count_stored_with_hash,
    media_of_report,
    messages_of_report,
    reports_created_before,
    save_report,
)


@dataclass(frozen=True)
class ErasureSummary:
    """How much personal data was removed."""

    reports: int
    media: int


async def _purge_media(
    session: AsyncSession, report: Report, media_dir: Path, *, forget_ids: bool
) -> int:
    """Delete a report's stored files (unless another report still uses the same file)."""
    assert report.id is not None
    removed = 0
    for media in await media_of_report(session=session, report_id=report.id):
        if media.status == MediaStatus.STORED and media.sha256 and media.path:
            path = media.path
            media.status = MediaStatus.PURGED
            session.add(media)
            await session.flush()
            if await count_stored_with_hash(session=session, sha256=media.sha256) == 0:
                await delete_file(media_dir=media_dir, relative=path)
            removed += 1
        media.status = MediaStatus.PURGED
        media.path = None
        if forget_ids:
            media.file_id = None
            media.file_unique_id = None
            media.sha256 = None
        session.add(media)
    await session.flush()
    return removed


def _drop_location(report: Report, now: datetime) -> None:
    report.latitude = report.longitude = report.accuracy = None
    report.location_label = None
    report.live_message_id = None
    report.live_until = None
    report.location_purged_at = now


async def forget_citizen(
    *, session: AsyncSession, telegram_user_id: int, media_dir: Path, now: datetime
) -> ErasureSummary | None:
    """Erase a citizen's personal data, keeping anonymous incident records; None if unknown."""
    citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
    if citizen is None or citizen.id is None:
        return None
    reports = list(await all_reports_of_citizen(session=session, citizen_id=citizen.id))
    media = 0
    for report in reports:
        media += await _purge_media(session, report, media_dir, forget_ids=True)
        _drop_location(report, now)
        report.text = None
        report.sealed_at = report.sealed_at or now
        report.updated_at = now
        assert report.id is not None
        for message in await messages_of_report(session=session, report_id=report.id):
            message.text = None
            message.chat_id = None
            message.message_id = None
            session.add(message)
        await save_report(session=session, report=report)
    citizen.telegram_user_id = None
    citizen.language = None
    citizen.consent_at = None
    citizen.last_seen_at = None
    citizen.forgotten_at = now
    await save_citizen(session=session, citizen=citizen)
    return ErasureSummary(reports=len(reports), media=media)


async def purge_expired(
    *, session: AsyncSession, now: datetime, retention_days: int, media_dir: Path
) -> int:
    """Delete media and precise locations of reports older than the retention period."""
    reports = await reports_created_before(
        session=session, before=now - timedelta(days=retention_days)
    )
    for report in reports:
        await _purge_media(session, report, media_dir, forget_ids=False)
        _drop_location(report, now)
        report.updated_at = now
        await save_report(session=session, report=report)
    return len(reports)
