"""Reports join or open incidents: same scenario, close in space and time.

Usage::

    assignment = await assign_incident(session=session, report=report, now=now)
    assignment.incident.reference, assignment.created, assignment.known_before
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.clustering import Candidate, ClusterRule, moved_centroid, nearest_incident
from situation.references import incident_reference
from storage.incidents import (
    create_incident,
    get_incident,
    open_incidents_of_scenario,
    open_incidents_reported_by,
    save_incident,
)
from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report

PRIORITY_ORDER = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class IncidentAssignment:
    """The incident a report went to; ``known_before`` when others had reported it already;
    ``raised`` when the report's urgent words raised the incident it joined to P1."""

    incident: Incident
    created: bool
    known_before: bool
    raised: bool = False


def higher_priority(a: str, b: str) -> str:
    """Return the more urgent of two priorities."""
    return min(a, b, key=PRIORITY_ORDER.index)


async def assign_incident(
    *, session: AsyncSession, report: Report, now: datetime
) -> IncidentAssignment:
    """Put a filed report into the nearest matching open incident, or open a new one."""
    if report.incident_id is not None:
        existing = await get_incident(session=session, incident_id=report.incident_id)
        if existing is not None:
            return IncidentAssignment(existing, created=False, known_before=False)
    match: Incident | None = None
    if report.scenario is not None and report.latitude is not None and report.longitude is not None:
        rule = scenarios.cluster_rule(report.scenario)
        rows = await open_incidents_of_scenario(
            session=session, scenario=report.scenario, active_since=now - rule.window
        )
        by_id = {row.id: row for row in rows}
        candidates = [
            Candidate(
                incident_id=row.id,
                scenario=row.scenario,
                latitude=row.latitude,
                longitude=row.longitude,
                last_report_at=row.last_report_at or row.opened_at,
            )
            for row in rows
            if row.id is not None
        ]
        best = nearest_incident(
            candidates,
            scenario=report.scenario,
            point=(report.latitude, report.longitude),
            at=now,
            rule=rule,
        )
        if best is not None:
            match = by_id[best.incident_id]
        else:
            match = await _still_open_for(session, report, rule, now)
    if match is not None:
        known = match.report_count > 0
        was_urgent = match.urgent and match.priority == "P1"
        _join(match, report, now)
        report.incident_id = match.id
        await save_incident(session=session, incident=match, flush=False)
        raised = known and report.urgent and not was_urgent
        return IncidentAssignment(match, created=False, known_before=known, raised=raised)
    incident = Incident(
        scenario=report.scenario,
        priority=scenarios.default_priority(report.scenario, urgent=report.urgent),
        status=IncidentStatus.NEW,
        opened_at=now,
        updated_at=now,
    )
    _join(incident, report, now)
    await create_incident(session=session, incident=incident)
    assert incident.id is not None
    incident.reference = incident_reference(incident.id, now)
    await save_incident(session=session, incident=incident)
    report.incident_id = incident.id
    return IncidentAssignment(incident, created=True, known_before=False)


def _join(incident: Incident, report: Report, now: datetime) -> None:
    """Count the report in the incident and move its centre and district."""
    incident.report_count += 1
    incident.last_report_at = now
    incident.updated_at = now
    if report.urgent:
        incident.urgent = True
        incident.priority = higher_priority(incident.priority, "P1")
    _add_location(incident, report)


def _add_location(incident: Incident, report: Report) -> None:
    if report.latitude is None or report.longitude is None:
        return
    point = (report.latitude, report.longitude)
    if incident.latitude is None or incident.longitude is None or incident.located_reports == 0:
        incident.latitude, incident.longitude = point
        incident.district_code, incident.district_name = report.district_code, report.district_name
        incident.outside_service_area = report.outside_service_area
    else:
        incident.latitude, incident.longitude = moved_centroid(
            (incident.latitude, incident.longitude), incident.located_reports, point
        )
    incident.located_reports += 1


async def _still_open_for(
    session: AsyncSession, report: Report, rule: ClusterRule, now: datetime
) -> Incident | None:
    """The citizen's own open incident at this place, when they write again after the window.

    Someone who writes two hours later about the fire they reported is still at that fire: a
    second topic and a second deadline would split the situation room's work.
    """
    if report.citizen_id is None or report.scenario is None:
        return None
    assert report.latitude is not None and report.longitude is not None
    rows = await open_incidents_reported_by(
        session=session, citizen_id=report.citizen_id, scenario=report.scenario
    )
    by_id = {row.id: row for row in rows if row.id is not None}
    best = nearest_incident(
        [
            Candidate(
                incident_id=row_id,
                scenario=row.scenario,
                latitude=row.latitude,
                longitude=row.longitude,
                last_report_at=row.last_report_at or row.opened_at,
            )
            for row_id, row in by_id.items()
        ],
        scenario=report.scenario,
        point=(report.latitude, report.longitude),
        at=now,
        rule=ClusterRule(radius_m=rule.radius_m, window=timedelta.max),
    )
    return by_id[best.incident_id] if best is not None else None


async def locate_incident(*, session: AsyncSession, report: Report) -> Incident | None:
    """Add a report's late location to its incident's centre (and district, if it had none)."""
    if report.incident_id is None:
        return None
    incident = await get_incident(session=session, incident_id=report.incident_id)
    if incident is None:
        return None
    _add_location(incident, report)
    await save_incident(session=session, incident=incident)
    return incident


async def follow_live_location(
    *,
    session: AsyncSession,
    report: Report,
    before: tuple[float | None, float | None],
    now: datetime,
) -> Incident | None:
    """Move the incident with a report's live location when that report alone located it.

    An incident whose place comes from several reports keeps it: one citizen walking away does
    not drag it, and nothing is re-clustered (the report stays in its incident).
    """
    if report.incident_id is None or report.latitude is None or report.longitude is None:
        return None
    incident = await get_incident(session=session, incident_id=report.incident_id)
    if incident is None or incident.located_reports != 1:
        return None
    if (incident.latitude, incident.longitude) != before:
        return None  # located by another report (or moved by staff): not this one's to move
    incident.latitude, incident.longitude = report.latitude, report.longitude
    incident.district_code, incident.district_name = report.district_code, report.district_name
    incident.outside_service_area = report.outside_service_area
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    return incident


async def leave_incident(*, session: AsyncSession, report: Report, now: datetime) -> None:
    """Stop counting a cancelled report in its incident."""
    if report.incident_id is None:
        return
    incident = await get_incident(session=session, incident_id=report.incident_id)
    if incident is None:
        return
    incident.report_count = max(0, incident.report_count - 1)
    incident.updated_at = now
    await save_incident(session=session, incident=incident)


async def mark_incident_urgent(*, session: AsyncSession, report: Report, now: datetime) -> bool:
    """Raise a report's incident to P1 when the citizen's words turn urgent after clustering.

    Returns whether the open incident changed (it was not urgent, or not P1, before).
    """
    if report.incident_id is None:
        return False
    incident = await get_incident(session=session, incident_id=report.incident_id)
    if incident is None or incident.status == IncidentStatus.CLOSED:
        return False
    if incident.urgent and incident.priority == "P1":
        return False
    incident.urgent = True
    incident.priority = higher_priority(incident.priority, "P1")
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    return True


async def classify_incident(*, session: AsyncSession, report: Report, now: datetime) -> None:
    """Give a report's unclassified incident the scenario (and its priority) later words gave."""
    if report.incident_id is None or report.scenario is None:
        return
    incident = await get_incident(session=session, incident_id=report.incident_id)
    if incident is None or incident.scenario is not None or incident.report_count > 1:
        return
    incident.scenario = report.scenario
    incident.priority = higher_priority(
        incident.priority, scenarios.default_priority(report.scenario, urgent=report.urgent)
    )
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
