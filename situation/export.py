"""Export incidents with their reports, agency hand-overs and full timelines (CSV or JSON).

An incident merged into another still lists the hand-overs the merge moved, each with
``moved_to`` (the reference of the incident that holds it now); that incident lists it once,
with ``moved_from``.

Usage::

    rows = await export_incidents(session=session, since=None)
    write_json(rows, stream)       # one object per incident, timeline included
    write_csv(rows, stream)        # one line per timeline event, incident columns repeated
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, TextIO

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import event_as_dict
from storage.audit import events_of_incident
from storage.escalations import handovers_moved_from, handovers_of_incident
from storage.models.escalations import AgencyHandover
from storage.models.incidents import Incident
from storage.reports import reports_of_incident

CSV_COLUMNS = (
    "incident",
    "scenario",
    "priority",
    "status",
    "district",
    "opened_at",
    "acknowledged_at",
    "closed_at",
    "holder",
    "reports",
    "event_at",
    "event_actor",
    "event_action",
    "event_before",
    "event_after",
    "event_note",
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def _handover_rows(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    """The incident's hand-overs, then those a merge moved away from it, oldest first each."""
    references: dict[int, str] = {}

    async def reference(other_id: int | None) -> str | None:
        if other_id is None or other_id == incident_id:
            return None
        if other_id not in references:
            other = await session.get(Incident, other_id)
            references[other_id] = (other.reference if other is not None else None) or str(other_id)
        return references[other_id]

    async def row(handover: AgencyHandover) -> dict[str, Any]:
        return {
            "agency": handover.agency,
            "method": handover.method,
            "reference": handover.reference,
            "at": _iso(handover.at),
            "moved_from": await reference(handover.origin_incident_id),
            "moved_to": await reference(handover.incident_id),
        }

    held = await handovers_of_incident(session=session, incident_id=incident_id)
    moved = await handovers_moved_from(session=session, incident_id=incident_id)
    return [await row(handover) for handover in [*held, *moved]]


async def export_incidents(
    *, session: AsyncSession, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Return every incident (opened since ``since``) as plain data with its timeline."""
    statement = select(Incident).order_by(col(Incident.id))
    if since is not None:
        statement = statement.where(col(Incident.opened_at) >= since)
    rows = []
    for incident in (await session.exec(statement)).all():
        assert incident.id is not None
        reports = await reports_of_incident(session=session, incident_id=incident.id)
        rows.append(
            {
                "incident": incident.reference,
                "scenario": incident.scenario,
                "priority": incident.priority,
                "status": incident.status,
                "district": incident.district_name,
                "opened_at": _iso(incident.opened_at),
                "acknowledged_at": _iso(incident.acknowledged_at),
                "closed_at": _iso(incident.closed_at),
                "closing_note": incident.closing_note,
                "holder": incident.holder,
                "merged_into_id": incident.merged_into_id,
                "reports": [report.reference for report in reports],
                "handovers": await _handover_rows(session, incident.id),
                "timeline": [
                    event_as_dict(event)
                    for event in await events_of_incident(session=session, incident_id=incident.id)
                ],
            }
        )
    return rows


def write_json(rows: list[dict[str, Any]], stream: TextIO) -> None:
    """Write the export as a JSON array (UTF-8 text, Korean kept readable)."""
    json.dump(rows, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_csv(rows: list[dict[str, Any]], stream: TextIO) -> None:
    """Write the export as CSV: one line per timeline event (one line if there is none)."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        base = {key: row[key] for key in CSV_COLUMNS[:9]}
        base["reports"] = " ".join(str(reference) for reference in row["reports"])
        events = row["timeline"] or [None]
        for event in events:
            line = dict(base)
            if event is not None:
                line.update(
                    event_at=event["at"],
                    event_actor=event["actor"],
                    event_action=event["action"],
                    event_before=json.dumps(event["before"], ensure_ascii=False)
                    if event["before"]
                    else "",
                    event_after=json.dumps(event["after"], ensure_ascii=False)
                    if event["after"]
                    else "",
                    event_note=event["note"] or "",
                )
            writer.writerow(line)
