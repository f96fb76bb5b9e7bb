"""Tell the citizens of an incident what the situation room did (called by the staff side).

Usage::

    await incident_acknowledged(session=session, incident_id=7)
    await staff_replied(session=session, report_id=42, text="소방차가 출동했습니다.")
    await incident_closed(session=session, incident_id=7, note="진화 완료")

Each citizen gets one message in their own language, queued in the caller's transaction.
Citizens who used /forget are not contacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from situation.outgoing import Outgoing
from storage.citizens import get_citizen
from storage.incidents import get_incident
from storage.models.reports import Report
from storage.reports import get_report, reports_of_incident


async def _tell(session: AsyncSession, report: Report, name: str, **context: Any) -> bool:
    if report.citizen_id is None:
        return False
    citizen = await get_citizen(session=session, citizen_id=report.citizen_id)
    if citizen is None or citizen.telegram_user_id is None or citizen.blocked:
        return False
    lang = citizen.language or report.language
    out = Outgoing(session=session, chat_id=citizen.telegram_user_id, lang=lang)
    await out.message(name, reference=report.reference, **context)
    return True


async def citizens_of_incident(
    *, session: AsyncSession, incident_id: int, name: str, **context: Any
) -> int:
    """Send catalogue message ``name`` to every reporting citizen of an incident; return count."""
    told: set[int] = set()
    for report in await reports_of_incident(session=session, incident_id=incident_id):
        if report.citizen_id is None or report.citizen_id in told:
            continue
        if await _tell(session, report, name, **context):
            told.add(report.citizen_id)
    return len(told)


async def incident_acknowledged(*, session: AsyncSession, incident_id: int) -> int:
    """Tell the incident's citizens that the situation room has acknowledged it."""
    incident = await get_incident(session=session, incident_id=incident_id)
    reference = incident.reference if incident else None
    return await citizens_of_incident(
        session=session,
        incident_id=incident_id,
        name="citizen_incident_acknowledged",
        incident=reference,
    )


async def incident_closed(*, session: AsyncSession, incident_id: int, note: str | None) -> int:
    """Tell the incident's citizens it was closed, with the closing note."""
    return await citizens_of_incident(
        session=session, incident_id=incident_id, name="citizen_incident_closed", note=note
    )


async def staff_replied(
    *, session: AsyncSession, report_id: int, text: str, signature: str | None = None
) -> bool:
    """Relay a staff answer to the citizen of one report."""
    report = await get_report(session=session, report_id=report_id)
    if report is None:
        return False
    return await _tell(session, report, "citizen_staff_reply", text=text, signature=signature)


async def staff_replied_to_all(
    *, session: AsyncSession, incident_id: int, text: str, signature: str | None = None
) -> int:
    """Relay a staff answer to every citizen of an incident."""
    return await citizens_of_incident(
        session=session,
        incident_id=incident_id,
        name="citizen_staff_reply",
        text=text,
        signature=signature,
    )


async def citizen_chats(*, session: AsyncSession, incident_id: int) -> Sequence[int]:
    """Return the private chat ids of the incident's (not forgotten) citizens."""
    chats: list[int] = []
    for report in await reports_of_incident(session=session, incident_id=incident_id):
        if report.citizen_id is None:
            continue
        citizen = await get_citizen(session=session, citizen_id=report.citizen_id)
        if citizen and citizen.telegram_user_id and citizen.telegram_user_id not in chats:
            chats.append(citizen.telegram_user_id)
    return chats
