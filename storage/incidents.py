"""Repository of incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.incidents import Incident, IncidentStatus


async def create_incident(*, session: AsyncSession, incident: Incident) -> Incident:
    """Insert an incident and return it with its id."""
    session.add(incident)
    await session.flush()
    return incident


async def save_incident(*, session: AsyncSession, incident: Incident) -> Incident:
    """Write a changed incident."""
    session.add(incident)
    await session.flush()
    return incident


async def get_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """Return the incident with this id."""
    return await session.get(Incident, incident_id)


async def open_incidents_of_scenario(
    *, session: AsyncSession, scenario: str, active_since: datetime
) -> Sequence[Incident]:
    """Return open incidents of ``scenario`` with a report since ``active_since``."""
    result = await session.exec(
        select(Incident).where(
            col(Incident.scenario) == scenario,
            col(Incident.status).in_(IncidentStatus.OPEN),
            col(Incident.last_report_at) >= active_since,
        )
    )
    return result.all()
