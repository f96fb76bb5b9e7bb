"""Repository of the situation room's timers: deadlines, agency hand-overs, follow-ups, leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.escalations import AgencyHandover, FollowUp, IncidentDeadline, SchedulerLease


async def get_deadline(*, session: AsyncSession, incident_id: int) -> IncidentDeadline | None:
    """Return the acknowledgement deadline of an incident."""
    return await session.get(IncidentDeadline, incident_id)


async def lock_deadline(*, session: AsyncSession, incident_id: int) -> IncidentDeadline | None:
    """Return an incident's deadline read afresh, its row locked until the transaction ends.

    For a read-modify-write of a running chain (a priority change, a merge, a sweep's step),
    under the incident's own row lock: this read waits for a writer of the row to commit and
    sees what it wrote. SQLite's writers already take turns for the whole transaction (it
    renders no FOR UPDATE).
    """
    return await session.get(
        IncidentDeadline, incident_id, with_for_update=True, populate_existing=True
    )


async def deadlines_of(
    *, session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, IncidentDeadline]:
    """Return the deadlines of several incidents with one query, by incident id."""
    if not incident_ids:
        return {}
    statement = select(IncidentDeadline).where(
        col(IncidentDeadline.incident_id).in_(sorted(set(incident_ids)))
    )
    return {row.incident_id: row for row in (await session.exec(statement)).all()}


async def save_deadline(*, session: AsyncSession, deadline: IncidentDeadline) -> IncidentDeadline:
    """Insert or update a deadline."""
    session.add(deadline)
    await session.flush()
    return deadline


async def due_deadlines(*, session: AsyncSession, now: datetime) -> Sequence[IncidentDeadline]:
    """Return running deadlines whose next escalation step is due at ``now``."""
    statement = (
        select(IncidentDeadline)
        .where(
            col(IncidentDeadline.next_at).is_not(None),
            col(IncidentDeadline.next_at) <= now,
            col(IncidentDeadline.cancelled_at).is_(None),
        )
        .order_by(col(IncidentDeadline.next_at))
    )
    return (await session.exec(statement)).all()


async def advance_deadline(
    *,
    session: AsyncSession,
    deadline: IncidentDeadline,
    step: int,
    next_at: datetime | None,
    now: datetime,
) -> bool:
    """Move a deadline from the step it was read at to ``step``; False if it moved meanwhile.

    Compare-and-set on the step: of two sweeps that read the same due step (a leader that lost
    its lease while paused, and the new one), only one advances it and posts the escalation.
    On PostgreSQL the second waits for the first's commit, then finds the step changed.
    """
    result = await session.exec(
        update(IncidentDeadline)
        .where(
            col(IncidentDeadline.incident_id) == deadline.incident_id,
            col(IncidentDeadline.step) == deadline.step,
            col(IncidentDeadline.cancelled_at).is_(None),
        )
        .values(step=step, next_at=next_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    for key, value in (("step", step), ("next_at", next_at), ("updated_at", now)):
        set_committed_value(deadline, key, value)  # as written: no second UPDATE at flush
    return True


async def add_handover(*, session: AsyncSession, handover: AgencyHandover) -> AgencyHandover:
    """Record an agency hand-over."""
    session.add(handover)
    await session.flush()
    return handover


async def handovers_of_incident(
    *, session: AsyncSession, incident_id: int
) -> Sequence[AgencyHandover]:
    """Return an incident's agency hand-overs, oldest first."""
    statement = (
        select(AgencyHandover)
        .where(col(AgencyHandover.incident_id) == incident_id)
        .order_by(col(AgencyHandover.id))
    )
    return (await session.exec(statement)).all()


async def handovers_moved_from(
    *, session: AsyncSession, incident_id: int
) -> Sequence[AgencyHandover]:
    """Return the hand-overs recorded on an incident that a merge moved away, oldest first."""
    statement = (
        select(AgencyHandover)
        .where(
            col(AgencyHandover.origin_incident_id) == incident_id,
            col(AgencyHandover.incident_id) != incident_id,
        )
        .order_by(col(AgencyHandover.id))
    )
    return (await session.exec(statement)).all()


async def move_handovers(
    *, session: AsyncSession, source_id: int, target_id: int
) -> Sequence[AgencyHandover]:
    """Move an incident's agency hand-overs to another (a merge); return them, oldest first.

    Each keeps the incident it was first recorded on (through merges of merges).
    """
    moved = await handovers_of_incident(session=session, incident_id=source_id)
    for handover in moved:
        if handover.origin_incident_id is None:
            handover.origin_incident_id = source_id
        handover.incident_id = target_id
        session.add(handover)
    await session.flush()
    return moved


async def add_followup(*, session: AsyncSession, followup: FollowUp) -> FollowUp:
    """Schedule a follow-up question."""
    session.add(followup)
    await session.flush()
    return followup


async def get_followup(*, session: AsyncSession, followup_id: int) -> FollowUp | None:
    """Return one follow-up."""
    return await session.get(FollowUp, followup_id)


async def due_followups(*, session: AsyncSession, now: datetime) -> Sequence[FollowUp]:
    """Return follow-ups due at ``now`` and not asked yet."""
    statement = (
        select(FollowUp)
        .where(col(FollowUp.asked_at).is_(None), col(FollowUp.due_at) <= now)
        .order_by(col(FollowUp.due_at), col(FollowUp.id))
    )
    return (await session.exec(statement)).all()


async def drop_pending_followups(*, session: AsyncSession, incident_id: int) -> int:
    """Delete an incident's follow-ups not asked yet; return how many there were."""
    result = await session.exec(
        delete(FollowUp)
        .where(col(FollowUp.incident_id) == incident_id, col(FollowUp.asked_at).is_(None))
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def answered_followups(*, session: AsyncSession) -> Sequence[FollowUp]:
    """Return every answered follow-up."""
    statement = select(FollowUp).where(col(FollowUp.answer).is_not(None))
    return (await session.exec(statement)).all()


def _lease_clock(session: AsyncSession, now: datetime, lease: timedelta) -> tuple[Any, Any]:
    """The time a lease is judged by, and its new end: the database's clock on PostgreSQL.

    Workers on several machines then agree on when a lease ends whatever their own clocks
    say, so a worker whose clock runs ahead cannot take a lease that has not expired.
    ``statement_timestamp()`` rather than ``now()``: a transaction that began long ago (a
    paused sweep) must not judge its lease by the time it began. SQLite runs on one machine:
    there the worker's clock (``now``) serves.
    """
    if session.get_bind().dialect.name == "postgresql":
        database_now = func.statement_timestamp()
        return database_now, database_now + literal(lease)
    return now, now + lease


async def try_lease(
    *, session: AsyncSession, name: str, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take or renew the lease ``name`` for ``owner`` unless another owner holds it unexpired."""
    clock, until = _lease_clock(session, now, lease)
    result = await session.exec(
        update(SchedulerLease)
        .where(
            col(SchedulerLease.name) == name,
            (col(SchedulerLease.owner) == owner) | (col(SchedulerLease.until) < clock),
        )
        .values(owner=owner, until=until)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0):
        return True
    if await session.get(SchedulerLease, name) is not None:
        return False
    try:
        async with session.begin_nested():
            await session.exec(insert(SchedulerLease).values(name=name, owner=owner, until=until))
    except IntegrityError:  # another worker inserted it first
        return False
    return True


async def hold_lease(
    *, session: AsyncSession, name: str, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Extend ``owner``'s unexpired lease ``name`` within this transaction; False if it lapsed.

    The fence of work only the leader may do: run it in the work's transaction, just before
    the commit. On PostgreSQL the row stays locked until then, so no other worker takes the
    lease (its ``try_lease`` waits, then finds it extended) before the work is committed.
    """
    clock, until = _lease_clock(session, now, lease)
    result = await session.exec(
        update(SchedulerLease)
        .where(
            col(SchedulerLease.name) == name,
            col(SchedulerLease.owner) == owner,
            col(SchedulerLease.until) > clock,
        )
        .values(until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_lease(*, session: AsyncSession, name: str, owner: str) -> None:
    """Give up the lease if ``owner`` holds it."""
    await session.exec(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name, col(SchedulerLease.owner) == owner)
        .values(until=datetime.fromtimestamp(0, UTC))
        .execution_options(synchronize_session=False)
    )
