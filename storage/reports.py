"""Repository of reports, their media and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.reports import MediaStatus, Report, ReportMedia, ReportMessage, ReportStatus


async def create_report(*, session: AsyncSession, report: Report) -> Report:
    """Insert a report and return it with its id."""
    session.add(report)
    await session.flush()
    return report


async def save_report(*, session: AsyncSession, report: Report) -> Report:
    """Write a changed report."""
    session.add(report)
    await session.flush()
    return report


async def get_report(*, session: AsyncSession, report_id: int) -> Report | None:
    """Return the report with this id."""
    return await session.get(Report, report_id)


async def get_report_by_reference(*, session: AsyncSession, reference: str) -> Report | None:
    """Return the report with this reference number."""
    result = await session.exec(select(Report).where(col(Report.reference) == reference))
    return result.one_or_none()


async def open_reports_of_citizen(
    *, session: AsyncSession, citizen_id: int, active_since: datetime
) -> Sequence[Report]:
    """Return the citizen's unsealed draft or filed reports active since ``active_since``."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.citizen_id) == citizen_id,
            col(Report.status).in_((ReportStatus.DRAFT, ReportStatus.FILED)),
            col(Report.sealed_at).is_(None),
            col(Report.last_message_at) >= active_since,
        )
        .order_by(col(Report.id))
    )
    return result.all()


async def reports_of_citizen(
    *, session: AsyncSession, citizen_id: int, limit: int = 10
) -> Sequence[Report]:
    """Return the citizen's latest reports, newest first."""
    result = await session.exec(
        select(Report)
        .where(col(Report.citizen_id) == citizen_id)
        .order_by(col(Report.id).desc())
        .limit(limit)
    )
    return result.all()


async def all_reports_of_citizen(*, session: AsyncSession, citizen_id: int) -> Sequence[Report]:
    """Return every report of the citizen."""
    result = await session.exec(select(Report).where(col(Report.citizen_id) == citizen_id))
    return result.all()


async def reports_of_incident(*, session: AsyncSession, incident_id: int) -> Sequence[Report]:
    """Return the filed reports of an incident, oldest first."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.incident_id) == incident_id,
            col(Report.status) == ReportStatus.FILED,
        )
        .order_by(col(Report.id))
    )
    return result.all()


async def incident_words_and_photos(
    *, session: AsyncSession, incident_id: int
) -> tuple[str | None, int]:
    """Return the first filed report's text and the number of photos across the incident.

    What the incident card shows, in two small queries however many reports joined.
    """
    filed = (col(Report.incident_id) == incident_id, col(Report.status) == ReportStatus.FILED)
    words = (
        await session.exec(
            select(Report.text)
            .where(*filed, col(Report.text).is_not(None), col(Report.text) != "")
            .order_by(col(Report.id))
            .limit(1)
        )
    ).first()
    photos = (
        await session.exec(
            select(func.count(col(ReportMedia.id)))
            .join(Report, col(Report.id) == col(ReportMedia.report_id))
            .where(
                *filed,
                col(ReportMedia.kind) == "photo",
                col(ReportMedia.file_id).is_not(None),
                col(ReportMedia.file_id) != "",
            )
        )
    ).one()
    return words, int(photos)


async def find_report_by_live_message(
    *, session: AsyncSession, citizen_id: int, message_id: int
) -> Report | None:
    """Return the citizen's report that follows the live location sent as ``message_id``."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.citizen_id) == citizen_id,
            col(Report.live_message_id) == message_id,
        )
        .order_by(col(Report.id).desc())
        .limit(1)
    )
    return result.one_or_none()


async def drafts_idle_since(*, session: AsyncSession, before: datetime) -> Sequence[Report]:
    """Return drafts whose last message came before ``before``."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.status) == ReportStatus.DRAFT,
            col(Report.last_message_at) < before,
        )
        .order_by(col(Report.id))
    )
    return result.all()


async def unclustered_reports(*, session: AsyncSession, asked_before: datetime) -> Sequence[Report]:
    """Return filed reports still waiting for a location asked for before ``asked_before``."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.status) == ReportStatus.FILED,
            col(Report.incident_id).is_(None),
            col(Report.asked_where_at) < asked_before,
        )
        .order_by(col(Report.id))
    )
    return result.all()


async def reports_with_unacknowledged(
    *, session: AsyncSession, acked_before: datetime
) -> Sequence[Report]:
    """Return reports with messages not yet acknowledged, last acknowledged before the cut."""
    result = await session.exec(
        select(Report).where(
            col(Report.unacknowledged_count) > 0,
            col(Report.status) != ReportStatus.CANCELLED,
            (col(Report.last_ack_at).is_(None)) | (col(Report.last_ack_at) < acked_before),
        )
    )
    return result.all()


async def reports_created_before(*, session: AsyncSession, before: datetime) -> Sequence[Report]:
    """Return reports created before ``before`` whose precise data was not purged yet."""
    result = await session.exec(
        select(Report).where(
            col(Report.created_at) < before,
            col(Report.location_purged_at).is_(None),
        )
    )
    return result.all()


_MEDIA_KEY = "jikimi.media_of_report"


def _forget_media(session: AsyncSession, *report_ids: int | None) -> None:
    known = session.info.get(_MEDIA_KEY)
    if known:
        for report_id in report_ids:
            known.pop(report_id, None)


def _known_media(session: AsyncSession, report_id: int) -> list[ReportMedia] | None:
    """The media list this session already read for the report, if every row is still fresh."""
    media = session.info.get(_MEDIA_KEY, {}).get(report_id)
    if media is None:
        return None
    for item in media:
        state = inspect(item)
        if (
            item not in session
            or state.deleted
            or state.was_deleted
            or state.expired_attributes
            or item.report_id != report_id
        ):
            return None
    return list(media)


async def add_media(*, session: AsyncSession, media: ReportMedia) -> ReportMedia:
    """Attach a media file to a report."""
    session.add(media)
    await session.flush()
    _forget_media(session, media.report_id)
    return media


async def media_of_report(*, session: AsyncSession, report_id: int) -> Sequence[ReportMedia]:
    """Return a report's media in arrival order (album parts by message id).

    One update asks several times (intake, then the staff room's card and relay): the list read
    earlier in the same session is reused; :func:`add_media` and :func:`move_report_content`
    forget it.
    """
    known = _known_media(session, report_id)
    if known is not None:
        return known
    result = await session.exec(
        select(ReportMedia)
        .where(col(ReportMedia.report_id) == report_id)
        .order_by(col(ReportMedia.message_id), col(ReportMedia.id))
    )
    media = list(result.all())
    session.info.setdefault(_MEDIA_KEY, {})[report_id] = media
    return list(media)


async def media_group_seen(*, session: AsyncSession, report_id: int, media_group_id: str) -> bool:
    """Tell whether a part of this album is already attached to the report."""
    result = await session.exec(
        select(func.count())
        .select_from(ReportMedia)
        .where(
            col(ReportMedia.report_id) == report_id,
            col(ReportMedia.media_group_id) == media_group_id,
        )
    )
    return int(result.one()) > 0


async def report_of_media_group(
    *, session: AsyncSession, citizen_id: int, media_group_id: str
) -> Report | None:
    """Return the citizen's report that already holds a part of this album."""
    result = await session.exec(
        select(Report)
        .join(ReportMedia, col(ReportMedia.report_id) == col(Report.id))
        .where(
            col(Report.citizen_id) == citizen_id,
            col(ReportMedia.media_group_id) == media_group_id,
        )
        .limit(1)
    )
    return result.one_or_none()


async def count_stored_with_hash(*, session: AsyncSession, sha256: str) -> int:
    """Count media rows that still use the stored file with this hash."""
    result = await session.exec(
        select(func.count())
        .select_from(ReportMedia)
        .where(
            col(ReportMedia.sha256) == sha256,
            col(ReportMedia.status) == MediaStatus.STORED,
        )
    )
    return int(result.one())


async def add_message(*, session: AsyncSession, message: ReportMessage) -> ReportMessage:
    """Record a citizen message linked to a report (written with the session's next flush)."""
    session.add(message)
    return message


async def messages_of_report(*, session: AsyncSession, report_id: int) -> Sequence[ReportMessage]:
    """Return the citizen messages of a report in order."""
    result = await session.exec(
        select(ReportMessage)
        .where(col(ReportMessage.report_id) == report_id)
        .order_by(col(ReportMessage.id))
    )
    return result.all()


async def move_report_content(*, session: AsyncSession, source_id: int, target_id: int) -> None:
    """Move every media file and message of report ``source_id`` to ``target_id``."""
    _forget_media(session, source_id, target_id)
    for media in await media_of_report(session=session, report_id=source_id):
        media.report_id = target_id
        session.add(media)
    for message in await messages_of_report(session=session, report_id=source_id):
        message.report_id = target_id
        session.add(message)
    await session.flush()
    _forget_media(session, source_id, target_id)
