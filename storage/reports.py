"""Repository of reports, their media and their messages."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, insert, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report, ReportMedia, ReportMessage, ReportStatus


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
        _open_reports_of_citizen(), params={"citizen_id": citizen_id, "active_since": active_since}
    )
    return result.all()


@cache
def _open_reports_of_citizen() -> SelectOfScalar[Report]:
    """Asked for every citizen message: the statement is built once."""
    return (
        select(Report)
        .where(
            col(Report.citizen_id) == bindparam("citizen_id"),
            col(Report.status).in_((ReportStatus.DRAFT, ReportStatus.FILED)),
            col(Report.sealed_at).is_(None),
            col(Report.last_message_at) >= bindparam("active_since"),
        )
        .order_by(col(Report.id))
    )


async def reports_to_show(*, session: AsyncSession, limit: int | None = None) -> Sequence[Report]:
    """Filed (or cancelled) reports of open incidents with messages staff were not shown yet.

    Oldest first. A cancelled report's last message is the notice that it was cancelled.
    """
    statement = _reports_to_show()
    if limit is not None:
        statement = statement.limit(limit)
    return (await session.exec(statement)).all()


@cache
def _reports_to_show() -> SelectOfScalar[Report]:
    """Asked on every staff-room pass, so it must not grow with the messages ever stored.

    It starts from the unrelayed messages (``relayed = false``, the predicate of the partial
    index ix_report_message_unrelayed; ``IS FALSE`` would not use it), a handful at any time,
    and reads their reports by primary key. PostgreSQL is told to take them first
    (``MATERIALIZED``): on tables too new for statistics it would scan every report instead.
    """
    unrelayed = (
        select(col(ReportMessage.report_id))
        .where(col(ReportMessage.relayed) == False)  # noqa: E712
        .distinct()
        .cte("unrelayed")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        select(Report)
        .join(unrelayed, unrelayed.c.report_id == col(Report.id))
        .join(Incident, col(Incident.id) == col(Report.incident_id))
        .where(
            col(Report.status).in_((ReportStatus.FILED, ReportStatus.CANCELLED)),
            col(Incident.status).in_(IncidentStatus.OPEN),
        )
        .order_by(col(Report.id))
    )


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


async def latest_version_of_message(
    *, session: AsyncSession, citizen_id: int, chat_id: int, message_id: int
) -> ReportMessage | None:
    """Return the latest recorded version of a citizen's message (the message or its last edit).

    Found through the citizen's reports (indexed), so it reads a handful of rows however many
    messages are stored.
    """
    result = await session.exec(
        select(ReportMessage)
        .join(Report, col(Report.id) == col(ReportMessage.report_id))
        .where(
            col(Report.citizen_id) == citizen_id,
            col(ReportMessage.chat_id) == chat_id,
            col(ReportMessage.message_id) == message_id,
        )
        .order_by(col(ReportMessage.id).desc())
        .limit(1)
    )
    return result.one_or_none()


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


async def live_locations_unshown(
    *, session: AsyncSession, now: datetime, since_before: datetime
) -> Sequence[Report]:
    """Return reports whose live location is at a place staff were not shown, since before
    ``since_before`` or with the live period over at ``now``."""
    result = await session.exec(
        select(Report)
        .where(
            col(Report.live_unshown_since).is_not(None),
            (col(Report.live_unshown_since) < since_before) | (col(Report.live_until) <= now),
            col(Report.status) != ReportStatus.CANCELLED,
        )
        .order_by(col(Report.id))
    )
    return result.all()


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


async def unclustered_reports(
    *, session: AsyncSession, asked_before: datetime, urgent_asked_before: datetime | None = None
) -> Sequence[Report]:
    """Return filed reports still waiting for a location asked for before ``asked_before``
    (urgent ones: before ``urgent_asked_before``)."""
    asked = col(Report.asked_where_at) < asked_before
    if urgent_asked_before is not None:
        asked = asked | (col(Report.urgent) & (col(Report.asked_where_at) < urgent_asked_before))
    result = await session.exec(
        select(Report)
        .where(
            col(Report.status) == ReportStatus.FILED,
            col(Report.incident_id).is_(None),
            asked,
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


# One update (or one staff-room pass) asks for a report's media and messages several times: the
# lists read earlier in the same session are kept in ``session.info`` and reused while every row
# in them is still live and fresh; whatever adds or moves content forgets them.
_MEDIA_KEY = "jikimi.media_of_report"
_MESSAGES_KEY = "jikimi.messages_of_report"

Child = TypeVar("Child", ReportMedia, ReportMessage)


def _forget(session: AsyncSession, key: str, *report_ids: int | None) -> None:
    known = session.info.get(key)
    if known:
        for report_id in report_ids:
            known.pop(report_id, None)


def _known(session: AsyncSession, key: str, report_id: int) -> list[Any] | None:
    """The list this session already read for the report, if every row is still fresh."""
    rows = session.info.get(key, {}).get(report_id)
    if rows is None:
        return None
    for row in rows:
        state = inspect(row)
        if (
            row not in session
            or state.deleted
            or state.was_deleted
            or state.expired_attributes
            or row.report_id != report_id
        ):
            return None
    return list(rows)


def _remember(
    session: AsyncSession, key: str, report_ids: Iterable[int], rows: Iterable[Child]
) -> None:
    grouped: dict[int, list[Child]] = {report_id: [] for report_id in report_ids}
    for row in rows:
        if row.report_id is not None:
            grouped.setdefault(row.report_id, []).append(row)
    session.info.setdefault(key, {}).update(grouped)


async def preload_report_content(*, session: AsyncSession, report_ids: Collection[int]) -> None:
    """Read the media and the messages of many reports with one query each.

    The staff room's pass posts dozens of reports: :func:`media_of_report` and
    :func:`messages_of_report` then answer from these lists instead of asking per report.
    """
    if not report_ids:
        return
    ids = sorted(set(report_ids))
    media = await session.exec(
        select(ReportMedia)
        .where(col(ReportMedia.report_id).in_(ids))
        .order_by(col(ReportMedia.message_id), col(ReportMedia.id))
    )
    _remember(session, _MEDIA_KEY, ids, media.all())
    messages = await session.exec(
        select(ReportMessage)
        .where(col(ReportMessage.report_id).in_(ids))
        .order_by(col(ReportMessage.id))
    )
    _remember(session, _MESSAGES_KEY, ids, messages.all())


async def add_media(*, session: AsyncSession, media: ReportMedia) -> ReportMedia:
    """Attach a media file to a report."""
    session.add(media)
    await session.flush()
    _forget(session, _MEDIA_KEY, media.report_id)
    return media


async def media_of_report(*, session: AsyncSession, report_id: int) -> Sequence[ReportMedia]:
    """Return a report's media in arrival order (album parts by message id).

    One update asks several times (intake, then the staff room's card and relay): the list read
    earlier in the same session is reused; :func:`add_media` and :func:`move_report_content`
    forget it.
    """
    known = _known(session, _MEDIA_KEY, report_id)
    if known is not None:
        return known
    result = await session.exec(
        select(ReportMedia)
        .where(col(ReportMedia.report_id) == report_id)
        .order_by(col(ReportMedia.message_id), col(ReportMedia.id))
    )
    media = list(result.all())
    _remember(session, _MEDIA_KEY, [report_id], media)
    return media


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


@cache
def _insert_message() -> Any:
    """A citizen message's INSERT, built once.

    Core on the table: every citizen message writes one, and an ORM object flushed with the
    report costs about twice the CPU of the statement itself.
    """
    table = ReportMessage.__table__  # type: ignore[attr-defined]
    return insert(table).values(
        report_id=bindparam("report_id"),
        chat_id=bindparam("chat_id"),
        message_id=bindparam("message_id"),
        kind=bindparam("kind"),
        text=bindparam("text"),
        media_group_id=bindparam("media_group_id"),
        forwarded_from=bindparam("forwarded_from"),
        relayed=False,
        created_at=bindparam("created_at"),
    )


async def add_message(
    *,
    session: AsyncSession,
    report_id: int,
    chat_id: int | None,
    message_id: int | None,
    kind: str,
    text: str | None,
    media_group_id: str | None,
    created_at: datetime,
    forwarded_from: str | None = None,
) -> None:
    """Record a citizen message of a stored report (written at once, not relayed yet).

    The report's own pending changes are not flushed first (the message only needs its row to
    exist): they go out with the report's next flush, as one UPDATE.
    """
    params = {
        "report_id": report_id,
        "chat_id": chat_id,
        "message_id": message_id,
        "kind": kind,
        "text": text,
        "media_group_id": media_group_id,
        "forwarded_from": forwarded_from,
        "created_at": created_at,
    }
    with session.no_autoflush:
        await session.exec(_insert_message(), params=params)
    _forget(session, _MESSAGES_KEY, report_id)


@cache
def _mark_relayed_statement() -> Any:
    """The UPDATE that marks citizen messages as shown in the staff room, built once."""
    table = ReportMessage.__table__  # type: ignore[attr-defined]
    return (
        update(table).where(table.c.id.in_(bindparam("ids", expanding=True))).values(relayed=True)
    )


async def mark_relayed(*, session: AsyncSession, messages: Iterable[ReportMessage]) -> None:
    """Mark citizen messages as shown in the staff room, with one UPDATE for all of them.

    A Core statement that flushes nothing else: the staff room marks the messages of every
    report it posts, and an ORM flush of each costs about twice the statement. The loaded
    rows say ``relayed`` at once, without becoming dirty.
    """
    fresh = [message for message in messages if not message.relayed and message.id is not None]
    if not fresh:
        return
    with session.no_autoflush:
        await session.exec(
            _mark_relayed_statement(), params={"ids": [message.id for message in fresh]}
        )
    for message in fresh:
        set_committed_value(message, "relayed", True)


async def messages_of_report(*, session: AsyncSession, report_id: int) -> Sequence[ReportMessage]:
    """Return the citizen messages of a report in order (reused within a session, as media)."""
    known = _known(session, _MESSAGES_KEY, report_id)
    if known is not None:
        return known
    result = await session.exec(
        select(ReportMessage)
        .where(col(ReportMessage.report_id) == report_id)
        .order_by(col(ReportMessage.id))
    )
    messages = list(result.all())
    _remember(session, _MESSAGES_KEY, [report_id], messages)
    return messages


async def move_report_content(*, session: AsyncSession, source_id: int, target_id: int) -> None:
    """Move every media file and message of report ``source_id`` to ``target_id``."""
    _forget(session, _MEDIA_KEY, source_id, target_id)
    _forget(session, _MESSAGES_KEY, source_id, target_id)
    for media in await media_of_report(session=session, report_id=source_id):
        media.report_id = target_id
        session.add(media)
    for message in await messages_of_report(session=session, report_id=source_id):
        message.report_id = target_id
        session.add(message)
    await session.flush()
    _forget(session, _MEDIA_KEY, source_id, target_id)
    _forget(session, _MESSAGES_KEY, source_id, target_id)
