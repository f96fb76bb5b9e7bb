"""Repository of the audit trail (incident events).

Usage::

    await add_event(session=session, event=IncidentEvent(incident_id=7, action="take", ...))
    timeline = await events_of_incident(session=session, incident_id=7)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.audit import IncidentEvent


async def add_event(*, session: AsyncSession, event: IncidentEvent) -> IncidentEvent:
    """Record one event in the caller's transaction (written with its next flush, in order)."""
    session.add(event)
    return event


async def events_of_incident(*, session: AsyncSession, incident_id: int) -> Sequence[IncidentEvent]:
    """Return an incident's timeline, oldest first."""
    statement = (
        select(IncidentEvent)
        .where(col(IncidentEvent.incident_id) == incident_id)
        .order_by(col(IncidentEvent.at), col(IncidentEvent.id))
    )
    return (await session.exec(statement)).all()


async def events_between(
    *, session: AsyncSession, since: datetime, until: datetime, action: str | None = None
) -> Sequence[IncidentEvent]:
    """Return events in ``[since, until)``, optionally of one action, oldest first."""
    statement = select(IncidentEvent).where(
        col(IncidentEvent.at) >= since, col(IncidentEvent.at) < until
    )
    if action is not None:
        statement = statement.where(col(IncidentEvent.action) == action)
    statement = statement.order_by(col(IncidentEvent.at), col(IncidentEvent.id))
    return (await session.exec(statement)).all()
