"""Citizen messages become reports: gather, ask only for what is missing, file, cluster, answer.

Usage (a handler, inside the update's transaction)::

    result = await receive_message(session=session, message=incoming, config=config, now=now)

Everything the citizen sent is stored before any answer is queued, and every answer goes to the
outbox in the same transaction. A report is filed as soon as it is useful: text with a scenario,
media with a location, text with a location, or once the questions were answered or skipped;
:func:`file_stale_drafts` files the rest when the citizen goes quiet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import geo, scenarios
from situation.callbacks import ManualPage, ScenarioChoice
from situation.incidents import (
    IncidentAssignment,
    assign_incident,
    classify_incident,
    follow_live_location,
    locate_incident,
    mark_incident_urgent,
)
from situation.language import remember_language, written_language
from situation.outgoing import Buttons, Outgoing, button, location_keyboard, skip_keyboard
from situation.references import report_reference
from situation.texts import render
from storage.citizens import find_citizen, get_citizen, get_or_create_citizen
from storage.incidents import get_incident
from storage.media import store_locked
from storage.models.citizens import Citizen
from storage.models.incidents import IncidentStatus
from storage.models.outbox import Priority
from storage.models.reports import (
    MediaStatus,
    Report,
    ReportMedia,
    ReportMessageKind,
    ReportStatus,
)
from storage.reports import (
    add_media,
    add_message,
    create_report,
    drafts_idle_since,
    find_report_by_live_message,
    live_locations_unshown,
    media_group_seen,
    media_of_report,
    messages_of_report,
    move_report_content,
    open_reports_of_citizen,
    report_of_media_group,
    reports_with_unacknowledged,
    save_report,
    unclustered_reports,
)
from storage.writes import write_changed

MEDIA_KINDS = ("photo", "document", "voice", "video")
ECHO_LIMIT = 200


@dataclass(frozen=True)
class IntakeConfig:
    """How reports are gathered (built from the settings by the caller)."""

    media_dir: Path
    followup_window: timedelta = timedelta(minutes=30)
    draft_timeout: timedelta = timedelta(minutes=2)
    urgent_where_timeout: timedelta = timedelta(seconds=20)
    """How long an urgent report waits for its location before staff see it without one."""
    ack_interval: timedelta = timedelta(seconds=10)
    max_file_bytes: int = 20 * 1024 * 1024
    retention_days: int = 30


@dataclass(frozen=True)
class IncomingFile:
    """A file the citizen sent, with its bytes when they could be downloaded."""

    kind: str
    file_id: str
    file_unique_id: str | None = None
    size: int | None = None
    mime: str | None = None
    suffix: str = ""
    data: bytes | None = None
    problem: str | None = None  # MediaStatus.TOO_LARGE or MediaStatus.FAILED


@dataclass(frozen=True)
class IncomingPlace:
    """A location or venue the citizen sent (possibly live)."""

    latitude: float
    longitude: float
    accuracy: float | None = None
    live_period: int | None = None
    title: str | None = None
    address: str | None = None
    live_stopped: bool = False
    """An edit of a live location that ends it (the citizen stopped sharing, or it ran out)."""


@dataclass(frozen=True)
class IncomingContact:
    """A phone contact the citizen shared (someone to call back, someone trapped)."""

    phone: str
    name: str | None = None

    @property
    def line(self) -> str:
        """The contact as the report keeps it: "name: number" (the number alone if unnamed)."""
        return f"{self.name}: {self.phone}" if self.name else self.phone


@dataclass(frozen=True)
class IncomingMessage:
    """One message from a citizen's private chat, independent of the messenger."""

    user_id: int
    chat_id: int
    message_id: int
    lang: str
    kind: str  # text | photo | document | voice | video | location | venue | contact | unsupported
    text: str | None = None
    media_group_id: str | None = None
    file: IncomingFile | None = None
    place: IncomingPlace | None = None
    contact: IncomingContact | None = None
    """A shared contact: kept as a report message of its own (kind "contact"), never classified."""
    forwarded_from: str | None = None
    """Who the citizen forwarded the message from (a person, group or channel), if anyone."""


@dataclass
class IntakeResult:
    """What happened to a message: the report it joined and the incident changes it caused."""

    report_id: int | None = None
    filed: bool = False
    incident: IncidentAssignment | None = None
    replies: list[str] = field(default_factory=list)


class ReportListener(Protocol):
    """Told about filed reports and attached messages (the situation room subscribes)."""

    async def report_changed(
        self, *, session: AsyncSession, report: Report, result: IntakeResult
    ) -> None:
        """React to a report that was filed, clustered or got a new message."""


# --- small rules -----------------------------------------------------------------------------


def has_where(report: Report) -> bool:
    """Whether the report has a location."""
    return report.latitude is not None and report.longitude is not None


def has_what(report: Report) -> bool:
    """Whether the report says what happened."""
    return bool(report.text) or report.scenario is not None


def where_resolved(report: Report) -> bool:
    """Whether the location is known or the citizen skipped the question."""
    return has_where(report) or report.where_skipped


def what_resolved(report: Report) -> bool:
    """Whether the description is known or the citizen skipped the question."""
    return has_what(report) or report.what_skipped


def is_useful(report: Report, *, has_media: bool) -> bool:
    """Whether the report carries enough to be filed now."""
    if report.text and report.scenario is not None:
        return True
    if has_where(report) and (has_media or has_what(report)):
        return True
    content = has_media or has_where(report) or has_what(report)
    return content and where_resolved(report) and what_resolved(report)


def ready_to_cluster(report: Report, *, now: datetime, config: IntakeConfig) -> bool:
    """Whether a filed report can join or open an incident now.

    It waits for the location it was asked for, so that it joins the right incident, but not
    for long: an urgent report (people trapped, fire spreading) only ``urgent_where_timeout``.
    """
    if report.status != ReportStatus.FILED or report.incident_id is not None:
        return False
    if where_resolved(report):
        return True
    wait = config.urgent_where_timeout if report.urgent else config.draft_timeout
    return report.asked_where_at is not None and now - report.asked_where_at >= wait


def is_skip(text: str) -> bool:
    """Whether the text is the skip button's label (in any language)."""
    cleaned = text.strip().casefold()
    return any(cleaned == render(lang, "citizen_button_skip").casefold() for lang in ("ko", "en"))


def preview(text: str, limit: int = ECHO_LIMIT) -> str:
    """Return the start of a long text for echoing back."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the report of a message -----------------------------------------------------------------


async def _open_report(
    session: AsyncSession,
    citizen: Citizen,
    message: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
) -> Report | None:
    assert citizen.id is not None
    if message.media_group_id:
        album = await report_of_media_group(
            session=session, citizen_id=citizen.id, media_group_id=message.media_group_id
        )
        if album is not None and album.status != ReportStatus.CANCELLED:
            return album
    reports = list(
        await open_reports_of_citizen(
            session=session, citizen_id=citizen.id, active_since=now - config.followup_window
        )
    )
    live: list[Report] = []
    for report in reports:
        if report.incident_id is not None:
            incident = await get_incident(session=session, incident_id=report.incident_id)
            if incident is not None and incident.status == IncidentStatus.CLOSED:
                continue
        live.append(report)
    if not live:
        return None
    keep = live[-1]
    for extra in live[:-1]:
        if extra.status == ReportStatus.DRAFT and keep.id is not None and extra.id is not None:
            await _merge_draft(session, extra, keep, now)
    return keep


def tells_another_incident(report: Report, text: str) -> bool:
    """Whether the words surely tell of another incident than the citizen's open report.

    Both must be sure: the report's scenario chosen (by the citizen or staff) or confidently
    classified, and the words confidently of a scenario neither the same as it nor related to
    it (a flood and the power cut it caused are one situation). Unclear words ("help", "물이
    더 차올라요", "still here") keep joining the open report, and so do words that say the
    citizen's own situation goes on ("still trapped, smoke now", "아직", "더": the catalogue's
    continuation words) and anything a citizen writes whose report holds them where they are
    (trapped: the smoke they see next is where they are).
    """
    if report.scenario is None or not text or is_skip(text):
        return False
    guess = scenarios.classify_report(text)
    if not guess.confident or not guess.candidates:
        return False
    if scenarios.related(guess.candidates[0], report.scenario):
        return False
    if scenarios.goes_on(text) or (report.text and scenarios.holds_reporter(report.text)):
        return False
    if report.scenario_confirmed:
        return True
    return report.text is not None and scenarios.classify_report(report.text).confident


async def _another_incident(
    session: AsyncSession, report: Report, message: IncomingMessage, text: str
) -> bool:
    """Whether this message opens a report of its own instead of joining ``report``."""
    if not tells_another_incident(report, text):
        return False
    assert report.id is not None
    # The rest of an album the report already holds stays with it, whatever its caption says.
    return not (
        message.media_group_id
        and await media_group_seen(
            session=session, report_id=report.id, media_group_id=message.media_group_id
        )
    )


async def _merge_draft(
    session: AsyncSession, source: Report, target: Report, now: datetime
) -> None:
    """Fold a stray draft into the citizen's current report so nothing is lost."""
    assert source.id is not None and target.id is not None
    await move_report_content(session=session, source_id=source.id, target_id=target.id)
    if source.text:
        target.text = f"{source.text}\n{target.text}" if target.text else source.text
    if not has_where(target) and has_where(source):
        target.latitude, target.longitude = source.latitude, source.longitude
        target.accuracy = source.accuracy
        target.district_code, target.district_name = source.district_code, source.district_name
        target.outside_service_area = source.outside_service_area
    target.message_count += source.message_count
    target.urgent = target.urgent or source.urgent
    source.status = ReportStatus.CANCELLED
    source.sealed_at = now
    source.updated_at = now
    await save_report(session=session, report=source)


async def _new_report(session: AsyncSession, citizen: Citizen, lang: str, now: datetime) -> Report:
    report = Report(
        citizen_id=citizen.id,
        language=lang,
        status=ReportStatus.DRAFT,
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    await create_report(session=session, report=report)
    assert report.id is not None
    report.reference = report_reference(report.id, now)
    return report


# --- attaching what was sent -----------------------------------------------------------------


def apply_classification(report: Report) -> None:
    """Guess the report's scenario from its words, unless the citizen or staff chose it."""
    if report.scenario_confirmed or not report.text:
        return
    guess = scenarios.classify_report(report.text)
    if guess.candidates:
        report.scenario = guess.candidates[0]
        report.scenario_confidence = guess.score
    else:
        report.scenario = None
        report.scenario_confidence = None


async def attach_file(
    session: AsyncSession, report: Report, message: IncomingMessage, config: IntakeConfig
) -> str:
    """Store the file and link it; return its media status."""
    incoming = message.file
    assert incoming is not None and report.id is not None
    media = ReportMedia(
        report_id=report.id,
        kind=incoming.kind,
        message_id=message.message_id,
        file_id=incoming.file_id,
        file_unique_id=incoming.file_unique_id,
        media_group_id=message.media_group_id,
        size=incoming.size,
        mime=incoming.mime,
    )
    if incoming.problem is not None:
        media.status = incoming.problem
    elif incoming.size is not None and incoming.size > config.max_file_bytes:
        media.status = MediaStatus.TOO_LARGE
    elif incoming.data is None:
        media.status = MediaStatus.FAILED
    elif len(incoming.data) > config.max_file_bytes:
        media.status = MediaStatus.TOO_LARGE
    else:
        stored = await store_locked(
            session=session, media_dir=config.media_dir, data=incoming.data, suffix=incoming.suffix
        )
        media.sha256, media.path, media.size = stored.sha256, stored.path, stored.size
        media.status = MediaStatus.STORED
    await add_media(session=session, media=media)
    return media.status


def _apply_place(report: Report, place: IncomingPlace, message_id: int, now: datetime) -> None:
    report.latitude, report.longitude = place.latitude, place.longitude
    report.accuracy = place.accuracy
    if place.title or place.address:
        report.location_label = " · ".join(part for part in (place.title, place.address) if part)
    if place.live_period:
        report.live_message_id = message_id
        report.live_until = now + timedelta(seconds=place.live_period)
    district = geo.resolve_district(place.latitude, place.longitude)
    if district is None:
        report.district_code = report.district_name = None
        report.outside_service_area = True
    else:
        report.district_code, report.district_name = district.code, district.name_ko
        report.outside_service_area = False
    if place.live_period:  # the place itself is shown to staff with the report
        report.live_shown_district = report.district_code
        report.live_unshown_since = None
        report.live_crossed_at = None


def valid_place(place: IncomingPlace) -> bool:
    """Whether the coordinates can be a real place."""
    try:
        geo.validate_coordinates(place.latitude, place.longitude)
    except geo.InvalidCoordinatesError:
        return False
    return True


def district_label(report: Report, lang: str) -> str | None:
    """Return the report's district in ``lang``, if known."""
    if report.district_code is None:
        return None
    district = geo.load_districts().get(report.district_code)
    return district.full_name(lang) if district is not None else report.district_name


# --- answers ---------------------------------------------------------------------------------


def manual_buttons(slug: str, lang: str, page: int, labels: Sequence[str]) -> Buttons:
    """Return the page buttons of a manual message (one per page, the current one marked)."""
    if len(labels) <= 1:
        return []
    items = [
        button(f"• {label} •" if number == page else label, ManualPage(slug, number, lang).pack())
        for number, label in enumerate(labels, start=1)
    ]
    return [items[i : i + 3] for i in range(0, len(items), 3)]


async def send_manual(out: Outgoing, slug: str) -> bool:
    """Queue page 1 of the manual for ``slug``; ``False`` if there is none."""
    manual = scenarios.manual(slug, out.lang)
    if manual is None:
        return False
    await out.text(
        manual.pages[0],
        buttons=manual_buttons(slug, out.lang, 1, manual.labels),
        priority=Priority.GUIDANCE,
    )
    return True


async def send_scenario_help(out: Outgoing, report: Report) -> None:
    """Queue the manual when the scenario is clear, else the three likeliest choices."""
    if report.scenario is None or not report.text:
        return
    guess = scenarios.classify_report(report.text)
    if report.scenario_confirmed or guess.confident:
        await send_manual(out, report.scenario)
        return
    assert report.id is not None
    rows: Buttons = [
        [button(scenarios.title(slug, out.lang), ScenarioChoice(report.id, slug).pack())]
        for slug in guess.candidates[:3]
    ]
    rows.append(
        [
            button(
                render(out.lang, "citizen_button_other"),
                ScenarioChoice(report.id, ScenarioChoice.OTHER).pack(),
            )
        ]
    )
    await out.message("citizen_choose_scenario", buttons=rows, priority=Priority.GUIDANCE)


async def file_report(
    session: AsyncSession,
    out: Outgoing,
    report: Report,
    now: datetime,
    *,
    ask: bool = False,
    privacy_days: int | None = None,
    separate_from: str | None = None,
) -> None:
    """File the report: send its manual, then confirm it (asking where, if ``ask`` and unknown).

    The manual goes first and at ``Priority.GUIDANCE``: in a surge, what to do now reaches each
    citizen ahead of every confirmation queued for others. ``privacy_days``: the confirmation
    also carries the short privacy notice (a new citizen). ``separate_from``: the reference of
    the citizen's open report these words were kept out of (another incident, see
    :func:`tells_another_incident`), which the confirmation names.
    """
    report.status = ReportStatus.FILED
    report.filed_at = now
    await send_scenario_help(out, report)
    # The question rides on the confirmation: one message less per report, and the
    # location button comes with the first answer.
    ask_where = ask and not where_resolved(report) and report.asked_where_at is None
    if ask_where:
        report.asked_where_at = now
    await out.message(
        "citizen_filed",
        reference=report.reference,
        district=district_label(report, out.lang),
        outside=report.outside_service_area,
        located=has_where(report),
        ask_where=ask_where,
        privacy_days=privacy_days,
        separate_from=separate_from,
        keyboard=location_keyboard(out.lang) if ask_where else None,
    )


async def join_incident(
    *, session: AsyncSession, report: Report, now: datetime
) -> IncidentAssignment:
    """Put a filed report into its incident; urgent words raising one others reported to P1
    are noticed in the staff room, like a citizen's own urgent follow-up."""
    assignment = await assign_incident(session=session, report=report, now=now)
    if assignment.raised:
        await add_notice(session=session, report=report, kind=ReportMessageKind.URGENT, now=now)
    return assignment


async def _cluster(
    session: AsyncSession, out: Outgoing | None, report: Report, now: datetime
) -> IncidentAssignment:
    assignment = await join_incident(session=session, report=report, now=now)
    known = known_notice(assignment)
    if out is not None and known is not None:
        await out.message("citizen_incident_known", **known)
    return assignment


def known_notice(assignment: IncidentAssignment) -> dict[str, Any] | None:
    """What the "already known" notice says, when the report joined an incident others reported."""
    if assignment.created or not assignment.known_before:
        return None
    incident = assignment.incident
    return {
        "reference": incident.reference,
        "handled": incident.status != IncidentStatus.NEW,
        "reports": incident.report_count,
    }


async def _ask(out: Outgoing, report: Report, now: datetime) -> None:
    if not where_resolved(report) and report.asked_where_at is None:
        report.asked_where_at = now
        await out.message("citizen_ask_where", keyboard=location_keyboard(out.lang))
    elif where_resolved(report) and not what_resolved(report) and report.asked_what_at is None:
        report.asked_what_at = now
        await out.message("citizen_ask_what", keyboard=skip_keyboard(out.lang))


# --- the entry points ------------------------------------------------------------------------


async def receive_message(
    *,
    session: AsyncSession,
    message: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
    prompted: bool = False,
    first_contact: bool = False,
) -> IntakeResult:
    """Store a citizen's message in their open report (or a new one) and queue the answers.

    For the words after a command (:mod:`situation.citizen_commands`): ``prompted``, the "call
    119 now" prompt for them was queued already, ahead of the command's answer; ``first_contact``,
    the citizen first wrote with this message, though the command may have registered them.
    """
    if await _closes_without_report(session, message, config, now):
        # "thanks" with no report open is no report: a polite answer, nothing stored.
        out = Outgoing(session=session, chat_id=message.chat_id, lang=message.lang)
        await out.message("citizen_closing")
        return IntakeResult(replies=out.names)
    # What the citizen forwards was written by someone else: it tells nothing of their language.
    words = None if message.forwarded_from else message.text
    written = written_language(words)
    citizen, created = await get_or_create_citizen(
        session=session, telegram_user_id=message.user_id, now=now, language=written
    )
    # ``message.lang`` already follows the text (see situation.language): remember it.
    remember_language(citizen, written)
    out = Outgoing(session=session, chat_id=message.chat_id, lang=message.lang)
    result = IntakeResult()
    if message.kind == "unsupported":
        await out.message("citizen_unsupported")
        result.replies = out.names
        return result
    text = (message.text or "").strip()
    if message.kind == "text" and not text:
        await out.message("citizen_empty")
        result.replies = out.names
        return result
    if message.place is not None and not valid_place(message.place):
        await out.message("citizen_location_invalid")
        result.replies = out.names
        return result

    # A citizen created by this very message has no report to continue.
    report = None if created else await _open_report(session, citizen, message, config, now)
    set_aside = None
    if report is not None and await _another_incident(session, report, message, text):
        set_aside, report = report, None  # the words open a report of their own
    new = report is None
    if report is None:
        report = await _new_report(session, citizen, message.lang, now)
    assert report.id is not None
    result.report_id = report.id
    was_filed = report.status == ReportStatus.FILED
    had_where = has_where(report)
    old_scenario = report.scenario
    album_seen = bool(
        message.media_group_id
        and await media_group_seen(
            session=session, report_id=report.id, media_group_id=message.media_group_id
        )
    )

    skip = bool(text) and message.kind == "text" and is_skip(text)
    contact = message.contact.line if message.contact is not None else None
    await add_message(
        session=session,
        report_id=report.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        kind=message.kind,
        text=contact or text or None,
        media_group_id=message.media_group_id,
        created_at=now,
        forwarded_from=message.forwarded_from,
    )
    report.message_count += 1
    report.last_message_at = now
    report.updated_at = now

    prompt = scenarios.urgent_prompt(text, out.lang) if text else None
    if prompt is not None and not report.urgent:
        report.urgent = True
        if not prompted:
            await out.text(prompt, priority=Priority.GUIDANCE)
        await raise_incident_urgency(session=session, report=report, now=now)

    if skip:
        if not where_resolved(report) and report.asked_where_at is not None:
            report.where_skipped = True
        else:
            report.what_skipped = True
        out.remove_keyboard()
    elif text:
        if report.asked_what_at is not None and not has_what(report):
            out.remove_keyboard()
        report.text = f"{report.text}\n{text}" if report.text else text
        apply_classification(report)

    media_status = None
    if message.file is not None:
        media_status = await attach_file(session, report, message, config)
    if message.place is not None:
        _apply_place(report, message.place, message.message_id, now)
        if report.asked_where_at is not None and not had_where:
            out.remove_keyboard()

    if media_status == MediaStatus.TOO_LARGE:
        await out.message(
            "citizen_media_too_large", limit_mb=config.max_file_bytes // (1024 * 1024)
        )
    elif media_status == MediaStatus.FAILED:
        await out.message("citizen_media_failed")

    # A new citizen is told once how long what they send is kept; with the confirmation
    # when this message files the report, else on its own at the end.
    privacy_due = (created or first_contact) and citizen.consent_at is None
    if report.status == ReportStatus.DRAFT and is_useful(
        report, has_media=await _has_media(session, report, message, new=new)
    ):
        privacy_days = config.retention_days if privacy_due else None
        await file_report(
            session,
            out,
            report,
            now,
            ask=not album_seen,
            privacy_days=privacy_days,
            separate_from=set_aside.reference if set_aside is not None else None,
        )
        privacy_due = False
        result.filed = True
    elif was_filed and old_scenario is None and report.scenario is not None:
        await send_scenario_help(out, report)
        await classify_incident(session=session, report=report, now=now)

    known = None
    if ready_to_cluster(report, now=now, config=config):
        result.incident = await join_incident(session=session, report=report, now=now)
        known = known_notice(result.incident)
    elif message.place is not None and not had_where and report.incident_id is not None:
        await locate_incident(session=session, report=report)

    if message.place is not None and was_filed:
        # The usual way a report joins an incident: its location. One answer says both.
        await out.message(
            "citizen_location_received",
            district=district_label(report, out.lang),
            outside=report.outside_service_area,
            live=bool(message.place.live_period),
            known=known,
        )
    elif known is not None:
        await out.message("citizen_incident_known", **known)

    if contact is not None and new:
        # A contact says nothing of what happened: the citizen hears it was kept, then the
        # question a report without words or place gets.
        await _acknowledge(out, report, contact, now, config, new=new)

    incomplete = report.status == ReportStatus.DRAFT or not (has_where(report) and has_what(report))
    if incomplete and not album_seen:
        await _ask(out, report, now)

    if out.count == 0 and not album_seen:
        await _acknowledge(out, report, contact or text, now, config, new=new)
    elif out.count > 0:
        report.last_ack_at = now
        report.unacknowledged_count = 0
    await out.flush_keyboard_removal()

    if privacy_due:
        await out.message("citizen_privacy_short", retention_days=config.retention_days)
    await write_changed(session=session)  # the citizen, the report, the incident it joined
    result.replies = out.names
    await tell_listeners(listeners, session, report, result)
    return result


async def _closes_without_report(
    session: AsyncSession, message: IncomingMessage, config: IntakeConfig, now: datetime
) -> bool:
    """Whether the message is closing words only ("thanks") from a citizen with no open report."""
    if message.kind != "text" or not scenarios.only_closing_words(message.text or ""):
        return False
    citizen = await find_citizen(session=session, telegram_user_id=message.user_id)
    return citizen is None or await _open_report(session, citizen, message, config, now) is None


async def raise_incident_urgency(*, session: AsyncSession, report: Report, now: datetime) -> None:
    """Raise the report's incident to P1 for urgent words, and have the staff room told.

    The notice is a report message of its own (``ReportMessageKind.URGENT``): the projector
    posts it in the topic, next to the words, and redraws the card, whoever holds the incident.
    """
    if not await mark_incident_urgent(session=session, report=report, now=now):
        return
    await add_notice(session=session, report=report, kind=ReportMessageKind.URGENT, now=now)


async def add_notice(
    *, session: AsyncSession, report: Report, kind: str, now: datetime, text: str | None = None
) -> None:
    """Record something the citizen did that the staff room shows (a report message to relay)."""
    assert report.id is not None
    await add_message(
        session=session,
        report_id=report.id,
        chat_id=None,
        message_id=None,
        kind=kind,
        text=text,
        media_group_id=None,
        created_at=now,
    )


async def _has_media(
    session: AsyncSession, report: Report, message: IncomingMessage, *, new: bool
) -> bool:
    """Whether the report has media; asked only of a draft, the database only when it must."""
    if message.file is not None:
        return True
    if new:  # opened by this very message, which carries no file
        return False
    assert report.id is not None
    return bool(await media_of_report(session=session, report_id=report.id))


async def tell_listeners(
    listeners: Sequence[ReportListener], session: AsyncSession, report: Report, result: IntakeResult
) -> None:
    """Tell every listener (the situation room) that the report changed."""
    for listener in listeners:
        await listener.report_changed(session=session, report=report, result=result)


async def _acknowledge(
    out: Outgoing,
    report: Report,
    text: str,
    now: datetime,
    config: IntakeConfig,
    *,
    new: bool,
) -> None:
    """Tell the citizen the message was added, at most once per ``ack_interval`` in a flood."""
    recent = report.last_ack_at is not None and now - report.last_ack_at < config.ack_interval
    if recent and not new:
        report.unacknowledged_count += 1
        return
    await out.message(
        "citizen_received",
        reference=report.reference,
        count=report.unacknowledged_count + 1,
        echo=preview(text) if text else None,
        long=len(text) > ECHO_LIMIT,
    )
    report.last_ack_at = now
    report.unacknowledged_count = 0


LIVE_NOTE_EVERY = timedelta(minutes=3)
"""A moving live location is shown to staff at most this often per report.

Sooner when it crosses into another district (the topic's name changes, see
:data:`LIVE_CROSSING_EVERY`), and always when the citizen stops sharing it.

Every move updates the report (and the incident it located) at once; the staff topic gets a
short note with a pin of where the report is when the note goes out, so a citizen walking with
a live location on does not flood the topic (Telegram lets a group receive ~20 messages/min).
A place held back is not lost: the sweep shows it once its note is due, and when the live
period runs out without a final edit (:func:`note_unshown_live_locations`).
"""

LIVE_CROSSING_EVERY = timedelta(minutes=1)
"""A district crossing is noted at most this often per report (a citizen walking along a border
would otherwise flood the topic); crossings count against the district staff were last told
of, so going back to it is no crossing at all."""

LIVE_STOP_GRACE = timedelta(minutes=5)
"""How late the edit that ends a live location may arrive after its period and still count."""


async def update_live_location(
    *,
    session: AsyncSession,
    user_id: int,
    message_id: int,
    place: IncomingPlace,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
) -> Report | None:
    """Move a report's location with its live location; tell staff, at most every few minutes.

    The incident moves too when this report is the one that located it (no re-clustering: a
    report that walks away stays in its incident). The edit that ends the live location is kept
    and shown to staff even when it comes a little after the live period.
    """
    citizen = await find_citizen(session=session, telegram_user_id=user_id)
    if citizen is None or citizen.id is None or not valid_place(place):
        return None
    report = await find_report_by_live_message(
        session=session, citizen_id=citizen.id, message_id=message_id
    )
    if report is None or report.status == ReportStatus.CANCELLED or report.id is None:
        return None
    stopped = place.live_stopped or not place.live_period
    if report.live_until is not None:
        late = report.live_until + LIVE_STOP_GRACE if stopped else report.live_until
        if now > late:
            return None
    before = (report.latitude, report.longitude)
    report.latitude, report.longitude = place.latitude, place.longitude
    report.accuracy = place.accuracy
    if stopped:
        report.live_until = min(now, report.live_until) if report.live_until else now
    district = geo.resolve_district(place.latitude, place.longitude)
    report.district_code = district.code if district else None
    report.district_name = district.name_ko if district else None
    report.outside_service_area = district is None
    report.updated_at = now
    if before != (place.latitude, place.longitude) and report.live_unshown_since is None:
        report.live_unshown_since = now
    await follow_live_location(session=session, report=report, before=before, now=now)
    noted = stopped or await _live_note_due(session, report, now)
    if noted:
        await _note_live_place(session, report, now, citizen.telegram_user_id)
    await save_report(session=session, report=report)
    if noted:
        await tell_listeners(listeners, session, report, IntakeResult(report_id=report.id))
    return report


async def _note_live_place(
    session: AsyncSession, report: Report, now: datetime, chat_id: int | None
) -> None:
    """Queue a note of where the live location is now for the staff topic."""
    assert report.id is not None
    await add_message(
        session=session,
        report_id=report.id,
        chat_id=chat_id,
        message_id=report.live_message_id,
        kind=ReportMessageKind.MOVED,
        text=None,
        media_group_id=None,
        created_at=now,
    )
    if report.district_code != report.live_shown_district:
        report.live_crossed_at = now
    report.live_unshown_since = None
    report.live_shown_district = report.district_code


async def _live_note_due(session: AsyncSession, report: Report, now: datetime) -> bool:
    """Whether staff are due a note of the live location's place.

    A place in another district than the one staff were last told of is due at once, unless a
    note told of another district less than :data:`LIVE_CROSSING_EVERY` ago; any other place
    not shown yet, :data:`LIVE_NOTE_EVERY` after staff last saw this live location.
    """
    if report.live_unshown_since is None or report.live_message_id is None:
        return False
    if report.district_code != report.live_shown_district and (
        report.live_crossed_at is None or now - report.live_crossed_at >= LIVE_CROSSING_EVERY
    ):
        return True
    assert report.id is not None
    seen = [
        message.created_at
        for message in await messages_of_report(session=session, report_id=report.id)
        if message.message_id == report.live_message_id
    ]
    return not seen or now - max(seen) >= LIVE_NOTE_EVERY


async def note_unshown_live_locations(
    *, session: AsyncSession, now: datetime, listeners: Sequence[ReportListener] = ()
) -> int:
    """Show staff the places live locations were held back at, once due; return how many.

    A live location whose period ran out with no final edit from the messenger gets its last
    note now (the place the citizen was last at), however recent the previous note was.
    """
    done = 0
    for report in await live_locations_unshown(
        session=session, now=now, since_before=now - LIVE_CROSSING_EVERY
    ):
        ended = report.live_until is not None and report.live_until <= now
        if not ended and not await _live_note_due(session, report, now):
            continue
        citizen = await get_citizen(session=session, citizen_id=report.citizen_id or 0)
        chat_id = citizen.telegram_user_id if citizen is not None else None
        await _note_live_place(session, report, now, chat_id)
        await save_report(session=session, report=report)
        await tell_listeners(listeners, session, report, IntakeResult(report_id=report.id))
        done += 1
    return done


async def file_stale_drafts(
    *,
    session: AsyncSession,
    now: datetime,
    config: IntakeConfig | None = None,
    listeners: Sequence[ReportListener] = (),
) -> int:
    """File drafts that went quiet, cluster reports whose question timed out; return the count.

    Also acknowledges, in one message, follow-ups that a flood left unacknowledged.
    """
    defaults = config or IntakeConfig(media_dir=Path())
    timeout, ack_interval = defaults.draft_timeout, defaults.ack_interval
    done = 0
    for report in await drafts_idle_since(session=session, before=now - timeout):
        out = await _outgoing_for(session, report)
        if out is None:
            report.status = ReportStatus.FILED
            report.filed_at = now
        else:
            await file_report(session, out, report, now)
            await out.flush_keyboard_removal()
        report.updated_at = now
        result = IntakeResult(report_id=report.id, filed=True)
        result.incident = await _cluster(session, out, report, now)
        await save_report(session=session, report=report)
        await tell_listeners(listeners, session, report, result)
        done += 1
    for report in await unclustered_reports(
        session=session,
        asked_before=now - timeout,
        urgent_asked_before=now - defaults.urgent_where_timeout,
    ):
        out = await _outgoing_for(session, report)
        result = IntakeResult(report_id=report.id)
        result.incident = await _cluster(session, out, report, now)
        report.updated_at = now
        await save_report(session=session, report=report)
        await tell_listeners(listeners, session, report, result)
        done += 1
    for report in await reports_with_unacknowledged(
        session=session, acked_before=now - ack_interval
    ):
        out = await _outgoing_for(session, report)
        if out is not None:
            await out.message(
                "citizen_received",
                reference=report.reference,
                count=report.unacknowledged_count,
                echo=None,
                long=False,
            )
        report.unacknowledged_count = 0
        report.last_ack_at = now
        await save_report(session=session, report=report)
    return done


async def _outgoing_for(session: AsyncSession, report: Report) -> Outgoing | None:
    if report.citizen_id is None:
        return None
    citizen = await get_citizen(session=session, citizen_id=report.citizen_id)
    if citizen is None or citizen.telegram_user_id is None or citizen.blocked:
        return None
    lang = citizen.language or report.language
    return Outgoing(session=session, chat_id=citizen.telegram_user_id, lang=lang)
