"""The manual after filing: page through it, or pick the scenario when the classifier was unsure."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.callbacks import ScenarioChoice
from situation.incidents import higher_priority
from situation.intake import manual_buttons, send_manual
from situation.outgoing import Outgoing
from storage.citizens import find_citizen
from storage.incidents import get_incident, save_incident
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
) -> bool:
    """Set the scenario the citizen picked and send its manual; ``False`` if not their report."""
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
    if report.incident_id is not None:
        incident = await get_incident(session=session, incident_id=report.incident_id)
        if incident is not None and incident.report_count <= 1:
            incident.scenario = report.scenario
            incident.priority = higher_priority(
                incident.priority, scenarios.default_priority(report.scenario, urgent=report.urgent)
            )
            incident.updated_at = now
            await save_incident(session=session, incident=incident)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    if other or not await send_manual(out, slug):
        await out.message("citizen_scenario_other")
    return True
