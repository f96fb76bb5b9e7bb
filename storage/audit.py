"""Repository of the audit trail (incident events).

Usage::

    await add_event(session=session, incident_id=7, at=now, action="take", actor_id=42, ...)
    timeline = await events_of_incident(session=session, incident_id=7)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.sql.dml import Insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.audit import IncidentEvent


@cache
def _insert_event() -> Insert:
    """The event's INSERT, built once; its id is not read back."""
    return insert(IncidentEvent).values(
        {name: bindparam(name) for name in IncidentEvent.model_fields if name != "id"}
    )


async def add_event(
    *,
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    action: str,
    actor_id: int | None = None,
    actor_name: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Record one event in the caller's transaction: one INSERT, sent now.

    A Core INSERT rather than an ORM object: an event is written once and never changed, and the
    staff room records one per incident it updates, and each used to cost an ORM flush.
    """
    with session.no_autoflush:  # the caller's pending changes keep their own order
        await session.exec(
            _insert_event(),
            params={
                "incident_id": incident_id,
                "at": at,
                "actor_id": actor_id,
                "actor_name": actor_name,
                "action": action,
                "before": before,
                "after": after,
                "note": note,
            },
        )


async def events_of_incident(*, session: AsyncSession, incident_id: int) -> Sequence[IncidentEvent]:
    """Return an incident's timeline, oldest first."""
    statement = (
        select(IncidentEvent)
        .where(col(IncidentEvent.incident_id) == incident_id)
        .order_by(col(IncidentEvent.at), col(IncidentEvent.id))
    )
    return (await session.exec(statement)).all()


async def last_event(
    *, session: AsyncSession, incident_id: int, action: str
) -> IncidentEvent | None:
    """Return the latest event of kind ``action`` in an incident's timeline, if any."""
    statement = (
        select(IncidentEvent)
        .where(col(IncidentEvent.incident_id) == incident_id, col(IncidentEvent.action) == action)
        .order_by(col(IncidentEvent.at).desc(), col(IncidentEvent.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


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
