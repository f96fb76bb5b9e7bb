"""Counts read at every metrics scrape (plain SQL aggregates, no rows loaded).

Usage::

    counts = await open_incident_counts(session=session)   # {("new", "P1"): 3, ...}
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.incidents import Incident, IncidentStatus


async def open_incident_counts(*, session: AsyncSession) -> dict[tuple[str, str], int]:
    """Count incidents that are not closed, by (status, priority)."""
    statement = (
        select(Incident.status, Incident.priority, func.count())
        .where(col(Incident.status).in_(IncidentStatus.OPEN))
        .group_by(col(Incident.status), col(Incident.priority))
    )
    rows = (await session.exec(statement)).all()
    return {(str(status), str(priority)): int(count) for status, priority, count in rows}
