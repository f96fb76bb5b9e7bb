"""Repository of incidents."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report


async def create_incident(*, session: AsyncSession, incident: Incident) -> Incident:
    """Insert an incident and return it with its id."""
    session.add(incident)
    await session.flush()
    return incident


async def save_incident(
    *, session: AsyncSession, incident: Incident, flush: bool = True
) -> Incident:
    """Write a changed incident (with ``flush=False``, with the session's next flush)."""
    session.add(incident)
    if flush:
        await session.flush()
    return incident


async def get_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """Return the incident with this id."""
    return await session.get(Incident, incident_id)


async def lock_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """Return the incident with this id, its row locked until the transaction ends.

    Read afresh (``SELECT ... FOR UPDATE`` on PostgreSQL), so two staff actions on one incident
    run one after the other and the second sees what the first did. SQLite's writers already
    take turns for the whole transaction (it renders no FOR UPDATE).
    """
    return await session.get(Incident, incident_id, with_for_update=True, populate_existing=True)


async def claim_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """Return the incident read afresh and locked, or None while another transaction holds it.

    For background work that can wait for its next pass (the escalation sweep): it never waits
    for a staff action on the incident (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL),
    and a staff action waits for it. SQLite's writers already take turns (no FOR UPDATE).
    """
    return await session.get(
        Incident,
        incident_id,
        with_for_update={"skip_locked": True},
        populate_existing=True,
    )


async def merged_into(*, session: AsyncSession, incident_id: int) -> Sequence[Incident]:
    """Return the incidents that were merged into incident ``incident_id`` (directly)."""
    statement = (
        select(Incident)
        .where(col(Incident.merged_into_id) == incident_id)
        .order_by(col(Incident.id))
    )
    return (await session.exec(statement)).all()


async def load_incidents(
    *, session: AsyncSession, incident_ids: Collection[int]
) -> Sequence[Incident]:
    """Read many incidents with one query; :func:`get_incident` then answers from the session.

    The session only holds them while the caller keeps the returned list.
    """
    if not incident_ids:
        return []
    statement = select(Incident).where(col(Incident.id).in_(sorted(incident_ids)))
    return (await session.exec(statement)).all()


async def open_incidents_of_scenario(
    *, session: AsyncSession, scenario: str, active_since: datetime
) -> Sequence[Incident]:
    """Return open incidents of ``scenario`` with a report since ``active_since``.

    Reads without flushing the session first: the report being clustered is not part of the
    answer, and writing its pending changes now would cost a second UPDATE of it later.
    """
    with session.no_autoflush:
        result = await session.exec(
            _open_of_scenario(), params={"scenario": scenario, "active_since": active_since}
        )
        return result.all()


async def open_incidents_reported_by(
    *, session: AsyncSession, citizen_id: int, scenario: str
) -> Sequence[Incident]:
    """Return open incidents of ``scenario`` the citizen reported before, however long ago."""
    reported = select(Report.incident_id).where(
        col(Report.citizen_id) == citizen_id, col(Report.incident_id).is_not(None)
    )
    with session.no_autoflush:
        result = await session.exec(
            select(Incident).where(
                col(Incident.scenario) == scenario,
                col(Incident.status).in_(IncidentStatus.OPEN),
                col(Incident.id).in_(reported),
            )
        )
        return result.all()


@cache
def _open_of_scenario() -> SelectOfScalar[Incident]:
    """Asked for every report that is clustered: the statement is built once."""
    return select(Incident).where(
        col(Incident.scenario) == bindparam("scenario"),
        col(Incident.status).in_(IncidentStatus.OPEN),
        col(Incident.last_report_at) >= bindparam("active_since"),
    )
