"""What a citizen can do besides reporting: start, consent, language, /new, /cancel, /myreports.

Each function queues its answer in the outbox in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.callbacks import Consent, ForgetConfirm, LanguageChoice
from situation.file_release import FileReleaser
from situation.incidents import leave_incident
from situation.intake import (
    IntakeConfig,
    IntakeResult,
    ReportListener,
    add_notice,
    district_label,
    tell_listeners,
)
from situation.outgoing import REMOVE_KEYBOARD, Outgoing, button
from situation.privacy import forget_citizen
from situation.texts import render
from storage.citizens import get_or_create_citizen, save_citizen
from storage.incidents import get_incident
from storage.models.reports import ReportMessageKind, ReportStatus
from storage.reports import open_reports_of_citizen, reports_of_citizen, save_report

SEOUL = ZoneInfo("Asia/Seoul")


async def start(
    *,
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    lang: str,
    now: datetime,
    retention_days: int,
) -> None:
    """Register the citizen and queue the welcome, the 119/112 reminder and the consent notice."""
    await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    await out.message("citizen_start")
    await send_consent(out, retention_days=retention_days)


async def send_consent(out: Outgoing, *, retention_days: int) -> None:
    """Queue the privacy notice with its accept and decline buttons."""
    buttons = [
        [
            button(render(out.lang, "citizen_button_accept"), Consent(Consent.ACCEPT).pack()),
            button(render(out.lang, "citizen_button_decline"), Consent(Consent.DECLINE).pack()),
        ]
    ]
    await out.message("citizen_consent", buttons=buttons, retention_days=retention_days)


async def record_consent(
    *, session: AsyncSession, user_id: int, chat_id: int, lang: str, accepted: bool, now: datetime
) -> None:
    """Record the citizen's answer to the privacy notice and thank them."""
    citizen, _ = await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    citizen.consent_at = now if accepted else None
    await save_citizen(session=session, citizen=citizen)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    await out.message("citizen_consent_accepted" if accepted else "citizen_consent_declined")


async def ask_language(*, session: AsyncSession, chat_id: int, lang: str) -> None:
    """Queue the language choice buttons."""
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    buttons = [
        [
            button("한국어", LanguageChoice("ko").pack()),
            button("English", LanguageChoice("en").pack()),
        ]
    ]
    await out.message("citizen_lang_choose", buttons=buttons)


async def set_language(
    *, session: AsyncSession, user_id: int, chat_id: int, lang: str, now: datetime
) -> None:
    """Store the citizen's chosen language (it then always wins) and confirm in it."""
    citizen, _ = await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    citizen.language = lang
    citizen.language_chosen = True
    await save_citizen(session=session, citizen=citizen)
    await Outgoing(session=session, chat_id=chat_id, lang=lang).message("citizen_lang_set")


async def new_report(
    *,
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    lang: str,
    config: IntakeConfig,
    now: datetime,
) -> str | None:
    """Close the open report to follow-ups so the next message starts a new one."""
    citizen, _ = await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    assert citizen.id is not None
    previous = None
    for report in await open_reports_of_citizen(
        session=session, citizen_id=citizen.id, active_since=now - config.followup_window
    ):
        report.sealed_at = now
        report.updated_at = now
        if report.status == ReportStatus.DRAFT:
            # A draft is never dropped: the timer files it like any quiet draft.
            report.last_message_at = now - config.draft_timeout
        await save_report(session=session, report=report)
        previous = report.reference
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    await out.message("citizen_new", previous=previous, keyboard=REMOVE_KEYBOARD)
    return previous


async def cancel_report(
    *,
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    lang: str,
    config: IntakeConfig,
    now: datetime,
    words: bool = False,
    listeners: Sequence[ReportListener] = (),
) -> str | None:
    """Cancel the citizen's open report; return its reference, or None if there was none.

    ``words``: the citizen wrote words after /cancel, which were not filed; the answer says so.
    A report that joined an incident leaves it, and the staff room is told (``listeners``).
    """
    citizen, _ = await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    assert citizen.id is not None
    reports = list(
        await open_reports_of_citizen(
            session=session, citizen_id=citizen.id, active_since=now - config.followup_window
        )
    )
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    if not reports:
        await out.message("citizen_nothing_to_cancel", words=words, keyboard=REMOVE_KEYBOARD)
        return None
    report = reports[-1]
    report.status = ReportStatus.CANCELLED
    report.sealed_at = now
    report.updated_at = now
    await leave_incident(session=session, report=report, now=now)
    await save_report(session=session, report=report)
    await out.message(
        "citizen_cancelled", reference=report.reference, words=words, keyboard=REMOVE_KEYBOARD
    )
    if report.incident_id is not None:
        await add_notice(session=session, report=report, kind=ReportMessageKind.CANCELLED, now=now)
        await tell_listeners(listeners, session, report, IntakeResult(report_id=report.id))
    return report.reference


async def list_reports(
    *, session: AsyncSession, user_id: int, chat_id: int, lang: str, now: datetime, limit: int = 10
) -> int:
    """Queue the citizen's latest reports with their status; return how many."""
    citizen, _ = await get_or_create_citizen(session=session, telegram_user_id=user_id, now=now)
    assert citizen.id is not None
    reports = await reports_of_citizen(session=session, citizen_id=citizen.id, limit=limit)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    if not reports:
        await out.message("citizen_no_reports")
        return 0
    rows = []
    for report in reports:
        status = report.status
        if report.status == ReportStatus.FILED and report.incident_id is not None:
            incident = await get_incident(session=session, incident_id=report.incident_id)
            if incident is not None and incident.status != "new":
                status = incident.status
        rows.append(
            {
                "reference": report.reference,
                "when": report.created_at.astimezone(SEOUL).strftime("%m-%d %H:%M"),
                "scenario": scenarios.title(report.scenario, lang)
                if report.scenario
                else render(lang, "citizen_scenario_unknown"),
                "status": render(lang, f"citizen_status_{status}"),
                "district": district_label(report, lang),
            }
        )
    await out.message("citizen_myreports", reports=rows)
    return len(rows)


async def ask_forget(
    *, session: AsyncSession, chat_id: int, lang: str, words: bool = False
) -> None:
    """Queue the confirmation question before erasing the citizen's data.

    ``words``: the citizen wrote words after /forget, which were not stored; the question says so.
    """
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    buttons = [
        [
            button(render(lang, "citizen_button_forget_yes"), ForgetConfirm("yes").pack()),
            button(render(lang, "citizen_button_forget_no"), ForgetConfirm("no").pack()),
        ]
    ]
    await out.message("citizen_forget_confirm", buttons=buttons, words=words)


async def confirm_forget(
    *,
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    lang: str,
    confirmed: bool,
    releaser: FileReleaser,
    now: datetime,
) -> bool:
    """Erase the citizen's personal data if confirmed and say what was removed.

    The files go once the caller's transaction commits (``releaser``).
    """
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    if not confirmed:
        await out.message("citizen_forget_kept")
        return False
    summary = await forget_citizen(
        session=session, telegram_user_id=user_id, releaser=releaser, now=now
    )
    await out.message(
        "citizen_forgotten",
        reports=summary.reports if summary else 0,
        media=summary.media if summary else 0,
        keyboard=REMOVE_KEYBOARD,
    )
    return summary is not None
