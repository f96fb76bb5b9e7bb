"""Repository of the situation room's timers: deadlines, agency hand-overs, follow-ups, leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.escalations import AgencyHandover, FollowUp, IncidentDeadline, SchedulerLease


async def get_deadline(*, session: AsyncSession, incident_id: int) -> IncidentDeadline | None:
    """Return the acknowledgement deadline of an incident."""
    return await session.get(IncidentDeadline, incident_id)


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


async def answered_followups(*, session: AsyncSession) -> Sequence[FollowUp]:
    """Return every answered follow-up."""
    statement = select(FollowUp).where(col(FollowUp.answer).is_not(None))
    return (await session.exec(statement)).all()


async def try_lease(
    *, session: AsyncSession, name: str, owner: str, now: datetime, until: datetime
) -> bool:
    """Take or renew the lease ``name`` for ``owner`` unless another owner holds it unexpired."""
    result = await session.exec(
        update(SchedulerLease)
        .where(
            col(SchedulerLease.name) == name,
            (col(SchedulerLease.owner) == owner) | (col(SchedulerLease.until) < now),
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


async def release_lease(*, session: AsyncSession, name: str, owner: str) -> None:
    """Give up the lease if ``owner`` holds it."""
    await session.exec(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name, col(SchedulerLease.owner) == owner)
        .values(until=datetime.fromtimestamp(0, UTC))
        .execution_options(synchronize_session=False)
    )
