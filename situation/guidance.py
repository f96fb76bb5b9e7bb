"""The manual after filing: page through it, or pick the scenario when the classifier was unsure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.audit import Actor, record
from situation.callbacks import ScenarioChoice
from situation.incidents import higher_priority
from situation.intake import (
    IntakeResult,
    ReportListener,
    add_notice,
    manual_buttons,
    send_manual,
    tell_listeners,
)
from situation.outgoing import Outgoing
from storage.audit import events_of_incident
from storage.citizens import find_citizen
from storage.incidents import get_incident, save_incident
from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report, ReportMessageKind
from storage.reports import get_report, save_report


async def show_manual_page(
    *, session: AsyncSession, chat_id: int, message_id: int, slug: str, page: int, lang: str
) -> bool:
    """Replace a manual message with page ``page``; ``False`` if the manual does not exist."""
    manual = scenarios.manual(slug, lang)
    if manual is None:
        return False
    page = min(max(page, 1), len(manual.pages))
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    await out.edit(
        message_id=message_id,
        text=manual.pages[page - 1],
        buttons=manual_buttons(slug, lang, page, manual.labels),
    )
    return True


async def choose_scenario(
    *,
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    lang: str,
    report_id: int,
    slug: str,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
) -> bool:
    """Set the scenario the citizen picked and send its manual; ``False`` if not their report.

    The report's incident follows the choice by :func:`incident_follows_choice`; the staff room
    is told (a notice in the topic, the card redrawn) through ``listeners``, as for later words.
    """
    citizen = await find_citizen(session=session, telegram_user_id=user_id)
    report = await get_report(session=session, report_id=report_id)
    if citizen is None or report is None or report.citizen_id != citizen.id:
        return False
    other = slug == ScenarioChoice.OTHER
    if not other and not scenarios.known_scenario(slug):
        return False
    if report.scenario_confirmed and report.scenario == (None if other else slug):
        return True  # the same choice again (a double tap): its answer went out the first time
    report.scenario = None if other else slug
    report.scenario_confirmed = True
    report.updated_at = now
    await save_report(session=session, report=report)
    incident = await incident_of(session, report)
    if incident is None or incident.status != IncidentStatus.CLOSED:
        await add_notice(
            session=session,
            report=report,
            kind=ReportMessageKind.SCENARIO,
            text=report.scenario,
            now=now,
        )
    if incident is not None:
        await incident_follows_choice(session=session, incident=incident, report=report, now=now)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    if other or not await send_manual(out, slug):
        await out.message("citizen_scenario_other")
    await tell_listeners(listeners, session, report, IntakeResult(report_id=report.id))
    return True


async def incident_of(session: AsyncSession, report: Report) -> Incident | None:
    """Return the incident the report joined, if it joined one."""
    if report.incident_id is None:
        return None
    return await get_incident(session=session, incident_id=report.incident_id)


async def incident_follows_choice(
    *, session: AsyncSession, incident: Incident, report: Report, now: datetime
) -> bool:
    """Give the open incident the scenario its citizen picked, when the choice is theirs to make.

    The incident takes it when it has no scenario yet, or when this report is its only one
    (the classifier's guess for the citizen's own words was all it had). An incident that
    others' reports joined as what it is, or whose scenario staff set, keeps it: the choice
    is then only the citizen's report's, and the topic shows it. Returns whether it changed.
    """
    assert incident.id is not None
    if incident.status == IncidentStatus.CLOSED or incident.scenario == report.scenario:
        return False
    if incident.scenario is not None and incident.report_count > 1:
        return False
    events = await events_of_incident(session=session, incident_id=incident.id)
    if any(event.action == "scenario" for event in events):  # staff chose: theirs stands
        return False
    before = {"scenario": incident.scenario, "priority": incident.priority}
    incident.scenario = report.scenario
    incident.priority = higher_priority(
        incident.priority, scenarios.default_priority(report.scenario, urgent=report.urgent)
    )
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await record(
        session=session,
        incident_id=incident.id,
        action=CITIZEN_SCENARIO,
        actor=Actor(user_id=None, name=report.reference or "citizen"),
        now=now,
        before=before,
        after={"scenario": incident.scenario, "priority": incident.priority},
    )
    return True


CITIZEN_SCENARIO = "citizen_scenario"
"""The timeline's action when a citizen's scenario choice changed their incident."""
