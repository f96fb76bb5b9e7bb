"""Statements of the retention purge: what expired, and how it is anonymised, batch by batch.

Usage (one transaction per batch, see ``situation.privacy.purge_expired``)::

    ids = await expired_report_ids(session=session, before=cutoff, limit=300)
    files = await anonymise_reports(session=session, report_ids=ids, now=now)
    # commit, then release the files that lost their last user:
    await release_files(session=session, media_dir=media_dir, files=files)

Every ``count_*`` function counts exactly what the matching change would touch, so that a dry
run reports what the real purge does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.locks import hold_lock
from storage.media import delete_files, media_lock_name
from storage.models.chats import ChatState
from storage.models.citizens import Citizen
from storage.models.commands import CommandMessage
from storage.models.failures import FailedUpdate
from storage.models.incidents import Incident, IncidentStatus
from storage.models.outbox import UNSETTLED, OutboxMessage
from storage.models.reports import MediaStatus, Report, ReportMedia, ReportMessage, ReportStatus

_REPORT = Report.__table__  # type: ignore[attr-defined]
_MEDIA = ReportMedia.__table__  # type: ignore[attr-defined]
_MESSAGE = ReportMessage.__table__  # type: ignore[attr-defined]
_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_FAILED = FailedUpdate.__table__  # type: ignore[attr-defined]
_CITIZEN = Citizen.__table__  # type: ignore[attr-defined]
_CHAT_STATE = ChatState.__table__  # type: ignore[attr-defined]
_COMMAND = CommandMessage.__table__  # type: ignore[attr-defined]

OUTBOX_PURGED_PREFIX = "purged: "
"""Put before ``last_error`` of a failed row whose payload was cleared: never sent again."""


async def _run(session: AsyncSession, statement: Any) -> Any:
    """Execute a Core statement on the session's connection (no ORM objects involved)."""
    return await (await session.connection()).execute(statement)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


async def _scalar(session: AsyncSession, statement: Any) -> int:
    return int((await _run(session, statement)).scalar_one() or 0)


def _expired(before: datetime) -> Any:
    # location_purged_at marks a report whose personal data is gone (the partial index
    # ix_report_unpurged holds the others, so this stays cheap however many are purged).
    return and_(_REPORT.c.location_purged_at.is_(None), _REPORT.c.created_at < before)


async def expired_report_ids(*, session: AsyncSession, before: datetime, limit: int) -> list[int]:
    """Ids of up to ``limit`` reports created before ``before`` and not anonymised yet."""
    statement = select(_REPORT.c.id).where(_expired(before)).order_by(_REPORT.c.id).limit(limit)
    return list((await _run(session, statement)).scalars().all())


async def count_expired_reports(*, session: AsyncSession, before: datetime) -> int:
    """How many reports :func:`expired_report_ids` will hand out in all."""
    return await _scalar(session, select(func.count()).select_from(_REPORT).where(_expired(before)))


def _held_file() -> Any:
    return _MEDIA.c.path.is_not(None)


def _released_files(before: datetime) -> Any:
    """Files whose every user is an expired report or a purged row still holding its path."""
    mine = or_(
        and_(
            _MEDIA.c.status == MediaStatus.STORED,
            _MEDIA.c.report_id.in_(select(_REPORT.c.id).where(_expired(before))),
        ),
        _MEDIA.c.status == MediaStatus.PURGED,
    )
    other = _MEDIA.alias("other")
    still_used = exists().where(
        other.c.sha256 == _MEDIA.c.sha256,
        other.c.path == _MEDIA.c.path,
        other.c.status == MediaStatus.STORED,
        ~other.c.report_id.in_(select(_REPORT.c.id).where(_expired(before))),
    )
    return (
        select(_MEDIA.c.path)
        .where(_held_file(), _MEDIA.c.sha256.is_not(None), mine, ~still_used)
        .distinct()
    )


async def count_released_files(*, session: AsyncSession, before: datetime) -> int:
    """How many distinct stored files the purge will delete (no recent report uses them)."""
    released = _released_files(before).subquery()
    return await _scalar(session, select(func.count()).select_from(released))


async def anonymise_reports(
    *, session: AsyncSession, report_ids: Sequence[int], now: datetime
) -> dict[str, str]:
    """Drop the words, places, media and citizen link of these reports; return their files.

    The media rows become ``purged`` but keep their file's hash and path until
    :func:`release_files` has deleted the file, after this transaction commits: a purge
    interrupted in between finds them again. Returns ``{path: sha256}`` of those files (one
    hash may be stored under several names, one per file suffix).
    """
    if not report_ids:
        return {}
    ids = list(report_ids)
    rows = await _run(
        session,
        select(_MEDIA.c.sha256, _MEDIA.c.path).where(
            _MEDIA.c.report_id.in_(ids),
            _MEDIA.c.status == MediaStatus.STORED,
            _held_file(),
            _MEDIA.c.sha256.is_not(None),
        ),
    )
    files = {path: sha256 for sha256, path in rows.all()}
    await _run(
        session,
        update(_MEDIA)
        .where(_MEDIA.c.report_id.in_(ids), _MEDIA.c.status == MediaStatus.STORED, _held_file())
        .values(status=MediaStatus.PURGED, file_id=None, file_unique_id=None),
    )
    # Rows that never held a file (too large, failed) may still name the photo on Telegram.
    await _run(
        session,
        update(_MEDIA)
        .where(_MEDIA.c.report_id.in_(ids), _MEDIA.c.path.is_(None))
        .values(status=MediaStatus.PURGED, file_id=None, file_unique_id=None, sha256=None),
    )
    await _run(
        session,
        update(_MESSAGE)
        .where(_MESSAGE.c.report_id.in_(ids))
        .values(text=None, chat_id=None, message_id=None, forwarded_from=None),
    )
    await _run(
        session,
        update(_REPORT)
        .where(_REPORT.c.id.in_(ids))
        .values(
            text=None,
            citizen_id=None,
            latitude=None,
            longitude=None,
            accuracy=None,
            location_label=None,
            live_message_id=None,
            live_until=None,
            live_unshown_since=None,
            location_purged_at=now,
            sealed_at=func.coalesce(_REPORT.c.sealed_at, now),
            updated_at=now,
        ),
    )
    return files


async def pending_releases(*, session: AsyncSession) -> dict[str, str]:
    """Files of purged media rows whose deletion was not finished (the purge was interrupted)."""
    rows = await _run(
        session,
        select(_MEDIA.c.sha256, _MEDIA.c.path)
        .where(_held_file(), _MEDIA.c.status == MediaStatus.PURGED)
        .distinct(),
    )
    return {path: sha256 for sha256, path in rows.all() if sha256}


async def release_files(*, session: AsyncSession, media_dir: Path, files: dict[str, str]) -> int:
    """Delete the files no stored media row uses any more; return how many were released.

    Each file is checked and deleted under the lock that intake's :func:`store_locked` takes
    for the same hash, so a report storing the same bytes at this moment either commits its
    row first (the file stays) or writes the file again after this transaction. The purged
    rows then forget the hash and path. Run it in its own transaction, after the one that
    purged the rows has committed.
    """
    if not files:
        return 0
    # Sorted: every purge takes the locks in one order, so two purges cannot deadlock.
    hashes = sorted(set(files.values()))
    for sha256 in hashes:
        await hold_lock(session=session, name=media_lock_name(sha256))
    paths = sorted(files)
    same_files = tuple_(_MEDIA.c.sha256, _MEDIA.c.path).in_([(files[p], p) for p in paths])
    used = await _run(
        session,
        select(_MEDIA.c.path).where(same_files, _MEDIA.c.status == MediaStatus.STORED).distinct(),
    )
    unused = set(paths) - set(used.scalars().all())
    await delete_files(media_dir=media_dir, relatives=sorted(unused))
    await _run(
        session,
        update(_MEDIA)
        .where(same_files, _MEDIA.c.status == MediaStatus.PURGED)
        .values(sha256=None, path=None),
    )
    return len(unused)


async def unused_files(*, session: AsyncSession, files: dict[str, str]) -> list[str]:
    """Return the paths among ``files`` (path -> SHA-256) that no media row names, sorted."""
    if not files:
        return []
    used = await _run(
        session, select(_MEDIA.c.path).where(_MEDIA.c.path.in_(sorted(files))).distinct()
    )
    return sorted(set(files) - set(used.scalars().all()))


async def delete_orphan_files(
    *, session: AsyncSession, media_dir: Path, files: dict[str, str]
) -> list[str]:
    """Delete the files no media row names (of any status); return their paths.

    As :func:`release_files`, under each file's lock: a report storing the same bytes now
    either commits its row first (the file stays) or writes the file again afterwards.
    """
    for sha256 in sorted(set(files.values())):
        await hold_lock(session=session, name=media_lock_name(sha256))
    orphans = await unused_files(session=session, files=files)
    await delete_files(media_dir=media_dir, relatives=orphans)
    return orphans


def _incident_expired(before: datetime) -> Any:
    unpurged = (
        select(_REPORT.c.id)
        .where(_REPORT.c.incident_id == _INCIDENT.c.id, _REPORT.c.location_purged_at.is_(None))
        .exists()
    )
    return and_(
        or_(_INCIDENT.c.latitude.is_not(None), _INCIDENT.c.longitude.is_not(None)),
        func.coalesce(_INCIDENT.c.last_report_at, _INCIDENT.c.opened_at) < before,
        ~unpurged,
    )


async def count_expired_incident_places(*, session: AsyncSession, before: datetime) -> int:
    """Incidents whose centre the purge drops (or would, once their reports are anonymised)."""
    # Counted before the reports are anonymised: an incident whose reports all expire now.
    unpurged = (
        select(_REPORT.c.id)
        .where(
            _REPORT.c.incident_id == _INCIDENT.c.id,
            _REPORT.c.location_purged_at.is_(None),
            _REPORT.c.created_at >= before,
        )
        .exists()
    )
    statement = (
        select(func.count())
        .select_from(_INCIDENT)
        .where(
            or_(_INCIDENT.c.latitude.is_not(None), _INCIDENT.c.longitude.is_not(None)),
            func.coalesce(_INCIDENT.c.last_report_at, _INCIDENT.c.opened_at) < before,
            ~unpurged,
        )
    )
    return await _scalar(session, statement)


async def drop_incident_places(*, session: AsyncSession, before: datetime) -> int:
    """Drop the centre of incidents quiet since ``before`` whose reports are all anonymised.

    The centre of one report is that citizen's precise location; the district stays.
    """
    result = await _run(
        session,
        update(_INCIDENT).where(_incident_expired(before)).values(latitude=None, longitude=None),
    )
    return _rowcount(result)


def _holds_citizen(before: datetime) -> Any:
    """A report that keeps its citizen known: within the retention period, or open (a draft,
    an incident not closed).

    Only reports the purge leaves linked count, not :func:`_expired` ones: the purge drops their
    link to the citizen first (even while their incident is open), so a dry run, which runs
    before, counts what the purge then finds.
    """
    open_incidents = select(_INCIDENT.c.id).where(_INCIDENT.c.status.in_(IncidentStatus.OPEN))
    return (
        select(_REPORT.c.id)
        .where(
            _REPORT.c.citizen_id == _CITIZEN.c.id,
            ~_expired(before),
            or_(
                _REPORT.c.created_at >= before,
                _REPORT.c.status == ReportStatus.DRAFT,
                _REPORT.c.incident_id.in_(open_incidents),
            ),
        )
        .exists()
    )


def _idle_citizen(before: datetime) -> Any:
    """A citizen still known by Telegram id, quiet since ``before``, whom no report holds."""
    # ix_citizen_known_seen holds the known citizens by last activity: the range is cheap.
    return and_(
        _CITIZEN.c.telegram_user_id.is_not(None),
        _CITIZEN.c.last_seen_at < before,
        or_(_CITIZEN.c.consent_at.is_(None), _CITIZEN.c.consent_at < before),
        ~_holds_citizen(before),
    )


async def count_idle_citizens(*, session: AsyncSession, before: datetime) -> int:
    """How many citizens :func:`anonymise_idle_citizens` will anonymise in all."""
    statement = select(func.count()).select_from(_CITIZEN).where(_idle_citizen(before))
    return await _scalar(session, statement)


async def anonymise_idle_citizens(
    *, session: AsyncSession, before: datetime, limit: int, now: datetime
) -> tuple[int, int]:
    """Anonymise up to ``limit`` citizens quiet since ``before`` whom no report holds.

    They lose their Telegram user id, language, consent and activity times, as on /forget.
    Run it after the expired reports were anonymised. Returns how many were looked at and how
    many anonymised: the update asks again, so a citizen active meanwhile stays (on PostgreSQL
    it waits for the row that citizen's update is writing; an update that read the row before
    this commits starts a new citizen, see ``storage.citizens.get_or_create_citizen``).
    """
    # Oldest first, along the index (by id, SQLite would scan every citizen instead).
    found = (
        select(_CITIZEN.c.id, _CITIZEN.c.telegram_user_id)
        .where(_idle_citizen(before))
        .order_by(_CITIZEN.c.last_seen_at)
        .limit(limit)
    )
    telegram_ids = {row[0]: row[1] for row in (await _run(session, found)).all()}
    if not telegram_ids:
        return 0, 0
    result = await _run(
        session,
        update(_CITIZEN)
        .where(_CITIZEN.c.id.in_(list(telegram_ids)), _idle_citizen(before))
        .values(
            telegram_user_id=None,
            language=None,
            language_chosen=False,
            consent_at=None,
            last_seen_at=None,
            forgotten_at=now,
        )
        .returning(_CITIZEN.c.id),
    )
    anonymised = list(result.scalars().all())
    if anonymised:  # whether the bot could reach them is theirs too (keyed by their id)
        chats = [telegram_ids[citizen_id] for citizen_id in anonymised]
        await _run(session, delete(_CHAT_STATE).where(_CHAT_STATE.c.chat_id.in_(chats)))
        # Their command messages' ids, as /forget drops them (never purged otherwise).
        await _run(session, delete(_COMMAND).where(_COMMAND.c.citizen_id.in_(anonymised)))
    return len(telegram_ids), len(anonymised)


def _settled_before(before: datetime) -> Any:
    return and_(_OUTBOX.c.status.not_in(UNSETTLED), _OUTBOX.c.created_at < before)


async def count_outbox_to_delete(*, session: AsyncSession, before: datetime) -> int:
    """Settled outbox rows before ``before`` that no correlation names (deleted)."""
    statement = select(func.count()).select_from(_OUTBOX)
    where = and_(_settled_before(before), _OUTBOX.c.correlation.is_(None))
    return await _scalar(session, statement.where(where))


async def delete_outbox_rows(*, session: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the rows :func:`count_outbox_to_delete` counts."""
    ids = (
        select(_OUTBOX.c.id)
        .where(_settled_before(before), _OUTBOX.c.correlation.is_(None))
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    ids_list = list((await _run(session, ids)).scalars().all())
    if not ids_list:
        return 0
    return _rowcount(await _run(session, delete(_OUTBOX).where(_OUTBOX.c.id.in_(ids_list))))


def _uncleared() -> Any:
    # A payload of {} carries nothing; the JSON column compares as text on both databases.
    return or_(cast(_OUTBOX.c.payload, Text) != "{}", _OUTBOX.c.result.is_not(None))


async def count_outbox_to_clear(*, session: AsyncSession, before: datetime) -> int:
    """Settled rows before ``before`` kept for their correlation, whose payload is cleared."""
    where = and_(_settled_before(before), _OUTBOX.c.correlation.is_not(None), _uncleared())
    return await _scalar(session, select(func.count()).select_from(_OUTBOX).where(where))


async def clear_outbox_rows(*, session: AsyncSession, before: datetime, limit: int) -> int:
    """Clear the payload and result of up to ``limit`` rows :func:`count_outbox_to_clear` counts.

    The rows stay for the ids later edits, pins and topic posts find by correlation
    (``result_message_id``, ``result_thread_id``); a failed one is marked so that topic
    recovery does not send it again.
    """
    ids = (
        select(_OUTBOX.c.id)
        .where(_settled_before(before), _OUTBOX.c.correlation.is_not(None), _uncleared())
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    ids_list = list((await _run(session, ids)).scalars().all())
    if not ids_list:
        return 0
    last_error = literal(OUTBOX_PURGED_PREFIX) + _OUTBOX.c.last_error  # NULL stays NULL
    result = await _run(
        session,
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(ids_list))
        .values(payload={}, result=null(), last_error=last_error),
    )
    return _rowcount(result)


async def count_failed_updates(*, session: AsyncSession, before: datetime) -> int:
    """Failed (raw) updates received before ``before``."""
    statement = select(func.count()).select_from(_FAILED).where(_FAILED.c.created_at < before)
    return await _scalar(session, statement)


async def delete_failed_updates(*, session: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` failed updates received before ``before``."""
    ids = select(_FAILED.c.id).where(_FAILED.c.created_at < before).limit(limit)
    ids_list = list((await _run(session, ids)).scalars().all())
    if not ids_list:
        return 0
    return _rowcount(await _run(session, delete(_FAILED).where(_FAILED.c.id.in_(ids_list))))
