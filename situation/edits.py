"""Citizens edit messages they sent: the new words join the report as an edit and are re-read.

Usage (a handler, inside the update's transaction)::

    result = await receive_edit(session=session, message=incoming, config=config, now=now)

The edit is kept as a report message of its own (kind ``edit``, the same message id) next to
the version before it, so the staff room shows what changed; the report's words are updated,
its scenario and urgency re-read (the "call 119 now" prompt comes first when the edit adds an
urgent signal) and the citizen is told. An edit of a message whose report is closed, cancelled
or unknown is taken like any follow-up message: it joins the open report or starts a new one.
An edit that takes the command off a command's message ("/cancel it was a mistake" into "it
was a mistake") is not a report: the citizen is told to send a new message (urgent words still
get the "call 119 now" prompt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.guidance import incident_follows_choice
from situation.intake import (
    IncomingFile,
    IncomingMessage,
    IntakeConfig,
    IntakeResult,
    ReportListener,
    apply_classification,
    attach_file,
    file_report,
    is_useful,
    join_incident,
    known_notice,
    preview,
    raise_incident_urgency,
    ready_to_cluster,
    receive_message,
    send_scenario_help,
    tell_listeners,
)
from situation.language import remember_written_language
from situation.outgoing import Outgoing
from storage.citizens import find_citizen, was_command_message
from storage.incidents import get_incident
from storage.models.incidents import IncidentStatus
from storage.models.outbox import Priority
from storage.models.reports import (
    MediaStatus,
    Report,
    ReportMessage,
    ReportMessageKind,
    ReportStatus,
)
from storage.reports import add_message, get_report, latest_version_of_message, media_of_report
from storage.writes import write_changed


async def receive_edit(
    *,
    session: AsyncSession,
    message: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
    words_of_command: bool = False,
) -> IntakeResult:
    """Record a citizen's edited message with its report, re-read the report and answer.

    ``words_of_command``: the edit still starts with its command, these are the words after it.
    """
    citizen = await find_citizen(session=session, telegram_user_id=message.user_id)
    before = None
    if citizen is not None and citizen.id is not None:
        remember_written_language(citizen, message.text)
        before = await latest_version_of_message(
            session=session,
            citizen_id=citizen.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
        )
        if (
            before is None
            and not words_of_command
            and await was_command_message(
                session=session, citizen_id=citizen.id, message_id=message.message_id
            )
        ):
            return await _command_edited_into_words(session, message)
    report = None
    if before is not None:
        report = await get_report(session=session, report_id=before.report_id)
    if before is None or report is None or not await open_to_edits(session, report):
        return await receive_message(
            session=session, message=message, config=config, now=now, listeners=listeners
        )
    return await _record_edit(session, report, before, message, config, now, listeners)


async def _command_edited_into_words(
    session: AsyncSession, message: IncomingMessage
) -> IntakeResult:
    """Answer an edit that took the command off its message: it is not filed as a report."""
    out = Outgoing(session=session, chat_id=message.chat_id, lang=message.lang)
    text = (message.text or "").strip()
    prompt = scenarios.urgent_prompt(text, out.lang) if text else None
    if prompt is not None:
        await out.text(prompt, priority=Priority.GUIDANCE)
    await out.message("citizen_edit_of_command")
    return IntakeResult(replies=out.names)


async def open_to_edits(session: AsyncSession, report: Report) -> bool:
    """Whether an edit still belongs to the report: neither cancelled nor closed by staff.

    A report sealed by /new still takes edits: they correct what the citizen said in it.
    """
    if report.status not in (ReportStatus.DRAFT, ReportStatus.FILED):
        return False
    if report.incident_id is None:
        return True
    incident = await get_incident(session=session, incident_id=report.incident_id)
    return incident is None or incident.status != IncidentStatus.CLOSED


def replace_words(text: str | None, before: str, after: str) -> str:
    """Put ``after`` where the report's words say ``before`` (its last occurrence), else add it."""
    if not text:
        return after
    lines, old = text.split("\n"), before.split("\n")
    if before:
        for start in range(len(lines) - len(old), -1, -1):
            if lines[start : start + len(old)] == old:
                return "\n".join([*lines[:start], after, *lines[start + len(old) :]])
    return f"{text}\n{after}"


async def _record_edit(
    session: AsyncSession,
    report: Report,
    before: ReportMessage,
    message: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    listeners: Sequence[ReportListener],
) -> IntakeResult:
    assert report.id is not None
    out = Outgoing(session=session, chat_id=message.chat_id, lang=message.lang)
    result = IntakeResult(report_id=report.id)
    text, old = (message.text or "").strip(), before.text or ""
    new_file = message.file is not None and not await _has_file(session, report, message.file)
    if text == old and not new_file:  # formatting only: nothing to record
        await out.message("citizen_edit_received", reference=report.reference, echo=None)
        result.replies = out.names
        return result

    old_scenario = report.scenario
    report.last_message_at = report.updated_at = now
    if text != old:
        await _record_new_words(session, out, report, message, old, text, now)
    if new_file:  # recorded after the edit: the latest version of the message is this one
        await _attach_replaced_file(session, out, report, message, config, now)

    media = await media_of_report(session=session, report_id=report.id)
    if report.status == ReportStatus.DRAFT and is_useful(report, has_media=bool(media)):
        await file_report(session, out, report, now, ask=True)
        result.filed = True
    elif report.status == ReportStatus.FILED and report.scenario not in (None, old_scenario):
        await send_scenario_help(out, report)
        await _incident_follows_words(session, report, now)
    if ready_to_cluster(report, now=now, config=config):
        result.incident = await join_incident(session=session, report=report, now=now)
        known = known_notice(result.incident)
        if known is not None:
            await out.message("citizen_incident_known", **known)
    if not result.filed:  # the confirmation of a report filed now says it all
        echo = preview(text) if text else None
        await out.message("citizen_edit_received", reference=report.reference, echo=echo)
    await write_changed(session=session)
    result.replies = out.names
    await tell_listeners(listeners, session, report, result)
    return result


async def _incident_follows_words(session: AsyncSession, report: Report, now: datetime) -> None:
    """Give the incident the scenario the corrected words tell, as a citizen's pick would.

    Only when the choice is the citizen's to make (the incident has no scenario or this report
    alone made it, and staff did not set one): "the road is flooded" corrected to "the building
    is on fire" is a fire, and the card and topic name say so.
    """
    incident = await get_incident(session=session, incident_id=report.incident_id or 0)
    if incident is not None:
        await incident_follows_choice(session=session, incident=incident, report=report, now=now)


async def _record_new_words(
    session: AsyncSession,
    out: Outgoing,
    report: Report,
    message: IncomingMessage,
    old: str,
    text: str,
    now: datetime,
) -> None:
    """Keep the new words as an edit, put them in the report and re-read its urgency."""
    assert report.id is not None
    await add_message(
        session=session,
        report_id=report.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        kind=ReportMessageKind.EDIT,
        text=text or None,
        media_group_id=message.media_group_id,
        created_at=now,
    )
    prompt = scenarios.urgent_prompt_for_edit(old, text, out.lang)
    if prompt is not None:
        report.urgent = True
        await out.text(prompt, priority=Priority.GUIDANCE)
        await raise_incident_urgency(session=session, report=report, now=now)
    if text:  # a caption removed leaves the report's words as they were: nothing is lost
        report.text = replace_words(report.text, old, text)
        apply_classification(report)


async def _has_file(session: AsyncSession, report: Report, file: IncomingFile) -> bool:
    """Whether the report already holds this file (a caption edit keeps the photo)."""
    assert report.id is not None
    for media in await media_of_report(session=session, report_id=report.id):
        if file.file_unique_id is not None and media.file_unique_id == file.file_unique_id:
            return True
        if file.file_unique_id is None and media.file_id == file.file_id:
            return True
    return False


async def _attach_replaced_file(
    session: AsyncSession,
    out: Outgoing,
    report: Report,
    message: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
) -> None:
    """Keep a photo or file the citizen put in place of the old one, like a new message."""
    assert report.id is not None and message.file is not None
    status = await attach_file(session, report, message, config)
    await add_message(
        session=session,
        report_id=report.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        kind=message.file.kind,
        text=(message.text or "").strip() or None,
        media_group_id=message.media_group_id,
        created_at=now,
    )
    if status == MediaStatus.TOO_LARGE:
        limit_mb = config.max_file_bytes // (1024 * 1024)
        await out.message("citizen_media_too_large", limit_mb=limit_mb)
    elif status == MediaStatus.FAILED:
        await out.message("citizen_media_failed")
