"""The situation room: one forum topic per incident, with its card, kept up to date.

Usage (inside the transaction that opened the incident or attached the report)::

    room = RoomConfig(chat_id=settings.staff_chat_id)
    await open_topic(session=session, incident=incident, room=room, now=now)
    await refresh_card(session=session, incident=incident, room=room, now=now)

The citizen intake tells :class:`StaffRoom` (a ``situation.intake.ReportListener``) about each
citizen message; :func:`sync_topics` posts what the room has not shown yet, in batches, right
after the citizen's transaction commits (bot.projector) and in the periodic sweep.
Everything is queued in the outbox: the topic (``incident:<id>:topic``), the card
(``incident:<id>:card``, pinned and edited in place), the photos and the map pin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from situation import scenarios
from situation.agencies import DEFAULT_AGENCIES, Directory
from situation.audit import SYSTEM, Actor, record
from situation.cards import CARD_WORDS, CardView, card_buttons, card_text, topic_name
from situation.deadline_defaults import DEFAULT_ACK_MINUTES
from situation.limits import (
    CAPTION_LIMIT,
    CUT,
    TEXT_LIMIT,
    clip,
    pack,
    room_for,
    split,
    split_html,
    utf16_len,
)
from situation.outgoing import Buttons
from situation.roster import Roster
from situation.texts import render
from storage.cards import card_figures
from storage.commit_hooks import after_commit
from storage.escalations import get_deadline, handovers_of_incident, save_deadline
from storage.incidents import get_incident, load_incidents
from storage.locks import hold_lock
from storage.models.escalations import IncidentDeadline
from storage.models.incidents import Incident, IncidentStatus
from storage.models.outbox import OutboxCreate, Priority
from storage.models.reports import (
    Report,
    ReportMedia,
    ReportMessage,
    ReportMessageKind,
    ReportStatus,
)
from storage.models.topics import IncidentTopic, TopicState
from storage.outbox import enqueue_batched, find, pending_count
from storage.reports import (
    mark_relayed,
    media_of_report,
    messages_of_report,
    preload_report_content,
    reports_of_incident,
    reports_to_show,
)
from storage.staff import staff_names
from storage.topics import (
    card_correlation,
    failed_topic_rows,
    get_topic,
    incident_id_for_thread,
    load_topics,
    mark_recovered,
    save_topic,
    thread_of,
    topic_correlation,
)

ALBUM_LIMIT = 10
CAPTIONED = frozenset({"photo", "document", "video", "voice"})


@dataclass(frozen=True)
class RoomConfig:
    """How the situation room works (built from the settings by ``bot``)."""

    chat_id: int | None
    lang: str = "ko"
    timezone: str = "Asia/Seoul"
    show_staff_names: bool = False
    ack_minutes: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ACK_MINUTES))
    followup_after: timedelta = timedelta(hours=2)
    agencies: Directory = field(default_factory=lambda: Directory(DEFAULT_AGENCIES))
    roster: Roster | None = None
    handover_mode: str = "release"
    # Telegram lets a group receive about 20 messages a minute. While this many messages to the
    # room are still waiting to be sent, new reports wait unposted, and the next pass posts all
    # that gathered meanwhile as one digest per incident (None: post at once, always).
    queue_limit: int | None = None

    def ack_time(self, priority: str) -> timedelta:
        """Return how long an incident of ``priority`` may wait for acknowledgement."""
        minutes = self.ack_minutes.get(priority, DEFAULT_ACK_MINUTES.get(priority, 30))
        return timedelta(minutes=minutes)


class Topic:
    """Queue messages into one incident's topic (through the topic's outbox correlation)."""

    def __init__(self, *, session: AsyncSession, topic: IncidentTopic) -> None:
        self.session = session
        self.topic = topic
        # Reports whose content goes out for the first time: no post of theirs has a name yet.
        self.first_posts: set[int] = set()

    @property
    def ref(self) -> str:
        """The correlation of the outbox row that created the topic."""
        return topic_correlation(self.topic.incident_id, self.topic.generation)

    @property
    def card_ref(self) -> str:
        """The correlation of the topic's card."""
        return card_correlation(self.topic.incident_id, self.topic.generation)

    async def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        correlation: str | None = None,
        target_ref: str | None = None,
        in_topic: bool = True,
    ) -> None:
        """Queue one action in the staff supergroup, in the topic unless ``in_topic`` is False."""
        enqueue_batched(
            session=self.session,
            message=OutboxCreate(
                chat_id=self.topic.chat_id,
                kind=kind,
                payload=payload,
                thread_ref=self.ref if in_topic else None,
                target_ref=target_ref,
                correlation=correlation,
                priority=Priority.STAFF_NOTICE,
            ),
        )

    async def text(self, text: str, *, buttons: Buttons | None = None, **extra: Any) -> None:
        """Queue a text message in the topic (in parts if too long; buttons on the last)."""
        parts = split_html(text, TEXT_LIMIT)
        for number, part in enumerate(parts, start=1):
            payload: dict[str, Any] = {"text": part, **extra}
            if buttons and number == len(parts):
                payload["buttons"] = buttons
            await self.send("text", payload)


async def _citizen_label(report: Report) -> str:
    return f"👤 {report.reference or f'#{report.id}'}"


async def _final_target(session: AsyncSession, incident: Incident) -> Incident | None:
    """Return the incident a merged one's reports live in now (following merges of merges)."""
    seen = {incident.id}
    target = None
    next_id = incident.merged_into_id
    while next_id is not None and next_id not in seen:
        found = await get_incident(session=session, incident_id=next_id)
        if found is None:
            break
        target = found
        seen.add(found.id)
        next_id = found.merged_into_id
    return target


async def card_view(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> CardView:
    """Gather what the card of ``incident`` shows."""
    assert incident.id is not None
    figures = await card_figures(session=session, incident_id=incident.id)
    holder_name = None
    if incident.holder:
        holder_id = int(incident.holder)
        holder_name = (await staff_names(session=session, user_ids=[holder_id])).get(
            holder_id, incident.holder
        )
    handovers: list[str] = []
    recorded = (
        await handovers_of_incident(session=session, incident_id=incident.id)
        if figures.handovers
        else ()
    )
    for handover in recorded:
        agency = room.agencies.get(handover.agency)
        # Rendered lines are HTML already: the card must not escape them a second time.
        handovers.append(
            Markup(
                render(
                    room.lang,
                    "staff_handover_line",
                    agency=agency.name(room.lang) if agency else handover.agency,
                    method=Markup(render(room.lang, "staff_label", key=handover.method)),
                    reference=handover.reference,
                )
            )
        )
    merged_into = merged_link = None
    if incident.merged_into_id is not None:
        # The incident its reports live in now: after A into B and B into C, A's card names C.
        final = await _final_target(session, incident)
        merged_into = final.reference if final is not None else f"#{incident.merged_into_id}"
        if final is not None and final.id is not None:
            merged_link = await incident_topic_link(
                session=session, room=room, incident_id=final.id
            )
    # Acknowledge by: the clock's start plus the current priority's ack time (the escalation
    # ladder's base, ``due_at``, moves with a priority change and is no deadline to show).
    ack_time = room.ack_time(incident.priority)
    ack_by = None
    if figures.ack_started_at is not None:
        ack_by = figures.ack_started_at + ack_time
    elif figures.ack_due_at is not None:  # a row from before the start was stored
        ack_by = figures.ack_due_at
    return CardView(
        incident=incident,
        words=figures.words,
        photos=figures.photos,
        holder_name=holder_name,
        ack_due_at=ack_by,
        reminded=figures.reminders > 0,
        now=now,
        handovers=handovers,
        merged_into=merged_into,
        merged_link=merged_link,
        released=incident.status in IncidentStatus.OPEN
        and incident.status != IncidentStatus.NEW
        and incident.holder is None
        and figures.chasing,
        timezone=room.timezone,
        forwarded=figures.forwarded,
        withdrawn=figures.withdrawn,
    )


async def open_topic(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> IncidentTopic | None:
    """Open the incident's topic with its card, photos and map pin, and start its deadline."""
    assert incident.id is not None
    if room.chat_id is None:
        return None
    existing = await get_topic(session=session, incident_id=incident.id)
    if existing is not None:
        return existing
    topic = await save_topic(
        session=session,
        topic=IncidentTopic(
            incident_id=incident.id,
            chat_id=room.chat_id,
            name=topic_name(incident),
            state=TopicState.OPEN,
            created_at=now,
            updated_at=now,
        ),
    )
    # A merge may have started the deadline already, on an earlier clock: it is kept.
    if incident.status == IncidentStatus.NEW and (
        await get_deadline(session=session, incident_id=incident.id) is None
    ):
        await save_deadline(
            session=session,
            deadline=IncidentDeadline(
                incident_id=incident.id,
                priority=incident.priority,
                started_at=incident.opened_at,
                due_at=incident.opened_at + room.ack_time(incident.priority),
                next_at=incident.opened_at + room.ack_time(incident.priority),
                updated_at=now,
            ),
        )
    await _post_topic(session, topic, incident, room, now)
    await record(
        session=session,
        incident_id=incident.id,
        action="opened",
        actor=SYSTEM,
        now=now,
        after={
            "scenario": incident.scenario,
            "priority": incident.priority,
            "district": incident.district_name,
            "reports": incident.report_count,
        },
    )
    return topic


async def _post_topic(
    session: AsyncSession,
    topic: IncidentTopic,
    incident: Incident,
    room: RoomConfig,
    now: datetime,
) -> None:
    """Queue the topic's creation, the pinned card and every report's content so far."""
    assert incident.id is not None
    out = Topic(session=session, topic=topic)
    await out.send("create_topic", {"name": topic.name}, correlation=out.ref, in_topic=False)
    view = await card_view(session=session, incident=incident, room=room, now=now)
    payload: dict[str, Any] = {"text": card_text(view, lang=room.lang)}
    buttons = card_buttons(incident, lang=room.lang)
    if buttons:
        payload["buttons"] = buttons
    await out.send("text", payload, correlation=out.card_ref)
    await out.send("pin", {"disable_notification": True}, target_ref=out.card_ref)
    reports = list(await reports_of_incident(session=session, incident_id=incident.id))
    for first in reports[:1]:
        await post_report_content(
            session=session, topic=topic, report=first, lang=room.lang, first=True
        )
    if incident.latitude is not None and incident.longitude is not None:
        await out.send("location", {"latitude": incident.latitude, "longitude": incident.longitude})
    # The card quotes the first report only; those that joined before the topic opened (a surge
    # clusters many within one pass) are listed as if they had joined afterwards.
    joined = reports[1:]
    if len(joined) == 1:
        await post_report_content(session=session, topic=topic, report=joined[0], lang=room.lang)
    elif joined:
        await _post_digest(session, JoinedReports(incident, topic, joined), room)


async def post_report_content(
    *,
    session: AsyncSession,
    topic: IncidentTopic,
    report: Report,
    lang: str,
    first: bool = False,
) -> None:
    """Queue a report's words and photos (as an album) into the topic; mark its messages relayed.

    The first report of a topic is quoted by the card, so its words follow only when the card
    cannot quote them whole.
    """
    assert report.id is not None
    out = Topic(session=session, topic=topic)
    photos = [
        media
        for media in await media_of_report(session=session, report_id=report.id)
        if media.kind == "photo" and media.file_id
    ]
    messages = await messages_of_report(session=session, report_id=report.id)
    if messages and not any(message.relayed for message in messages):
        # Posting a report's content marks its messages relayed: none is, so none of its
        # posts was named before and the names need no look-up.
        out.first_posts.add(report.id)
    if not first:
        await _post_words(out, report, lang, joined=True)
    elif report.text and len(report.text) > CARD_WORDS:
        await _post_words(out, report, lang, joined=False)
    label = await _citizen_label(report)
    origins = forwarded_origins(messages)
    if origins and not first:  # the card says it of the first report's words
        text = render(lang, "staff_report_forwarded", citizen=label, origins=", ".join(origins))
        await out.send(
            "text", {"text": text}, correlation=await _report_post_name(out, report, "forwarded")
        )
    await _send_photos(out, photos, caption=label, of_report=report)
    await _send_files(out, messages, caption=label, of_report=report)
    await _send_contacts(out, messages, lang, label=label, of_report=report)
    if not first and report.latitude is not None and report.longitude is not None:
        await out.send(
            "location",
            {"latitude": report.latitude, "longitude": report.longitude},
            correlation=await _report_post_name(out, report, "pin"),
        )
    await mark_relayed(session=session, messages=messages)


FILE_KINDS = frozenset({"document", "voice", "video"})
"""Citizen messages whose file the topic gets as a copy of the message (photos go as albums)."""

CONTACT_KIND = "contact"
"""A contact the citizen shared: the topic gets a line with its name and number (a copy of the
message could not say which citizen it came from, a contact takes no caption)."""


async def _send_files(
    out: Topic,
    messages: Sequence[ReportMessage],
    *,
    caption: str,
    of_report: Report | None = None,
) -> None:
    """Queue a copy of every voice note, video and document of a report not relayed yet
    (named after ``of_report``, so that a reply to one answers its citizen)."""
    for message in messages:
        if message.relayed or message.kind not in FILE_KINDS:
            continue
        if message.chat_id is None or message.message_id is None:
            continue
        payload = {
            "from_chat_id": message.chat_id,
            "message_id": message.message_id,
            "caption": caption,
        }
        correlation = None
        if of_report is not None:
            correlation = await _report_post_name(out, of_report, f"file{message.id}")
        await out.send("copy", payload, correlation=correlation)


async def _send_contacts(
    out: Topic,
    messages: Sequence[ReportMessage],
    lang: str,
    *,
    label: str,
    of_report: Report | None = None,
) -> None:
    """Queue a "📇 name: number" line for every contact of a report not relayed yet (named
    after ``of_report``, so that a reply to one answers its citizen)."""
    for message in messages:
        if message.relayed or message.kind != CONTACT_KIND or not message.text:
            continue
        correlation = None
        if of_report is not None:
            correlation = await _report_post_name(out, of_report, f"contact{message.id}")
        text = render(lang, "staff_citizen_contact", citizen=label, contact=message.text)
        await out.send("text", {"text": text}, correlation=correlation)


def report_in_correlation(
    incident_id: int, generation: int, report_id: int, part: int | str = 1
) -> str:
    """Name a post of report ``report_id`` in its incident's topic: its words (``part`` 2 on
    for the rest of them), or ``part`` "photo1", "pin", "file7" for what came with them.

    A reply to any of them answers the report's citizen only.
    """
    name = f"report:in:{incident_id}:{generation}:{report_id}"
    if part == 1:
        return name
    return f"{name}:p{part}" if isinstance(part, int) else f"{name}:{part}"


async def _report_post_name(out: Topic, report: Report, part: int | str) -> str | None:
    """Name a post of the report in the topic, unless the name was taken (posted before)."""
    assert report.id is not None
    name = report_in_correlation(out.topic.incident_id, out.topic.generation, report.id, part)
    if report.id in out.first_posts:
        return name
    return None if await find(session=out.session, correlation=name) is not None else name


async def _post_words(out: Topic, report: Report, lang: str, *, joined: bool) -> None:
    """Queue everything the report says, in as many messages as Telegram's limit takes."""
    label = await _citizen_label(report)

    def said(words: str) -> str:
        return render(lang, "staff_citizen_says", citizen=label, text=words)

    def joining(words: str) -> str:
        return render(
            lang, "staff_report_joined", citizen=label, text=words, district=report.district_name
        )

    opening = joining if joined else said
    parts = split(
        report.text or "", room_for(said, TEXT_LIMIT), first_room=room_for(opening, TEXT_LIMIT)
    )
    # Each part is named after the report, so that a reply to it answers that citizen.
    await out.send(
        "text", {"text": opening(parts[0])}, correlation=await _report_post_name(out, report, 1)
    )
    for part, piece in enumerate(parts[1:], start=2):
        correlation = await _report_post_name(out, report, part)
        await out.send("text", {"text": said(piece)}, correlation=correlation)


async def post_moved_media(
    *, session: AsyncSession, topic: IncidentTopic, reports: Sequence[Report], lang: str
) -> None:
    """Queue the photos and map pins of reports moved into the topic by a merge.

    Their words are quoted by the merge note; one report's photos carry its label, several
    reports' photos go out together as albums, and at most ALBUM_LIMIT pins follow.
    """
    out = Topic(session=session, topic=topic)
    photos: list[ReportMedia] = []
    for report in reports:
        assert report.id is not None
        photos.extend(
            media
            for media in await media_of_report(session=session, report_id=report.id)
            if media.kind == "photo" and media.file_id
        )
    if len(reports) == 1:
        caption = await _citizen_label(reports[0])
    else:
        caption = render(lang, "staff_reports_joined_photos")
    await _send_photos(out, photos, caption=caption)
    placed = [r for r in reports if r.latitude is not None and r.longitude is not None]
    for report in placed[:ALBUM_LIMIT]:
        await out.send("location", {"latitude": report.latitude, "longitude": report.longitude})


async def _send_photos(
    out: Topic, photos: list[ReportMedia], *, caption: str, of_report: Report | None = None
) -> None:
    """Queue photos as albums (named after ``of_report``: a reply answers its citizen)."""
    for start in range(0, len(photos), ALBUM_LIMIT):
        chunk = photos[start : start + ALBUM_LIMIT]
        correlation = None
        if of_report is not None:
            correlation = await _report_post_name(out, of_report, f"photo{start + 1}")
        if len(chunk) == 1:
            payload = {"file_id": chunk[0].file_id, "caption": caption}
            await out.send("photo", payload, correlation=correlation)
            continue
        items: list[dict[str, Any]] = [{"type": "photo", "file_id": item.file_id} for item in chunk]
        items[0]["caption"] = caption
        await out.send("album", {"items": items}, correlation=correlation)


async def refresh_card(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> None:
    """Edit the card in place and rename the topic when its status or place changed."""
    assert incident.id is not None
    topic = await get_topic(session=session, incident_id=incident.id)
    if topic is None:
        return
    out = Topic(session=session, topic=topic)
    view = await card_view(session=session, incident=incident, room=room, now=now)
    await out.send(
        "edit_text",
        {
            "text": card_text(view, lang=room.lang),
            "buttons": card_buttons(incident, lang=room.lang),
        },
        target_ref=out.card_ref,
    )
    name = topic_name(incident)
    if name != topic.name:
        topic.name = name
        topic.updated_at = now
        await save_topic(session=session, topic=topic)
        await out.send("edit_topic", {"name": name})


async def show_menu(*, session: AsyncSession, incident: Incident, buttons: Buttons) -> None:
    """Replace the card's keyboard with a sub-menu (or the main keyboard again)."""
    assert incident.id is not None
    topic = await get_topic(session=session, incident_id=incident.id)
    if topic is None:
        return
    out = Topic(session=session, topic=topic)
    await out.send("edit_markup", {"buttons": buttons}, target_ref=out.card_ref)


async def relay_citizen_messages(
    *, session: AsyncSession, incident: Incident, report: Report, room: RoomConfig
) -> int:
    """Copy the report's messages not yet relayed into the incident's topic; return how many."""
    assert incident.id is not None and report.id is not None
    topic = await get_topic(session=session, incident_id=incident.id)
    if topic is None or incident.status == IncidentStatus.CLOSED:
        return 0
    out = Topic(session=session, topic=topic)
    label = await _citizen_label(report)
    messages = await messages_of_report(session=session, report_id=report.id)
    fresh = [message for message in messages if not message.relayed]
    # A note shows where the live location is now, whenever it was written: of several waiting
    # (written while the incident was closed, or the room's queue full) only the last is shown.
    last_moves = {m.message_id: m.id for m in fresh if m.kind == ReportMessageKind.MOVED}
    for message in fresh:
        if message.kind == ReportMessageKind.MOVED:
            if last_moves[message.message_id] == message.id:
                await _relay_move(out, message, report, label, room, generation=topic.generation)
            continue
        if message.kind in ReportMessageKind.NOTICES:
            await _post_notice(session, out, message, label, incident, room)
            continue
        await _relay_one(out, message, label, room, generation=topic.generation, among=messages)
    await mark_relayed(session=session, messages=fresh)
    return len(fresh)


async def _relay_move(
    out: Topic,
    message: ReportMessage,
    report: Report,
    label: str,
    room: RoomConfig,
    *,
    generation: int,
) -> None:
    """Queue a note of where a live location is now (or where it stopped) and its map pin.

    The pin is where the report is when the note is written into the outbox: the newest place.
    """
    assert message.id is not None
    if report.latitude is None or report.longitude is None:
        return
    stopped = report.live_until is not None and message.created_at >= report.live_until
    text = render(
        room.lang,
        "staff_live_moved",
        citizen=label,
        district=report.district_name,
        outside=report.outside_service_area,
        place=f"{report.latitude:.5f}, {report.longitude:.5f}",
        stopped=stopped,
    )
    correlation = relay_in_correlation(message.id, generation)
    await out.send("text", {"text": text}, correlation=correlation)
    await out.send("location", {"latitude": report.latitude, "longitude": report.longitude})


async def _post_notice(
    session: AsyncSession,
    out: Topic,
    message: ReportMessage,
    label: str,
    incident: Incident,
    room: RoomConfig,
) -> None:
    """Post what the citizen did (picked a scenario, wrote urgent words, cancelled) in the topic.

    Named like a relayed message, so that a reply to it answers that citizen.
    """
    assert message.id is not None
    if message.kind == ReportMessageKind.SCENARIO:
        scenario = scenarios.title(message.text, room.lang) if message.text else None
        text = render(room.lang, "staff_citizen_chose", citizen=label, scenario=scenario)
    elif message.kind == ReportMessageKind.CANCELLED:
        text = render(
            room.lang, "staff_citizen_cancelled", citizen=label, reports=incident.report_count
        )
    else:
        holder = None
        if incident.holder:
            holder_id = int(incident.holder)
            name = (await staff_names(session=session, user_ids=[holder_id])).get(holder_id)
            holder = Actor(user_id=holder_id, name=name or incident.holder).mention
        text = render(
            room.lang,
            "staff_citizen_urgent",
            citizen=label,
            priority=incident.priority,
            holder=holder,
        )
    await out.send(
        "text", {"text": text}, correlation=relay_in_correlation(message.id, out.topic.generation)
    )


def relay_in_correlation(message_id: int, generation: int, part: int = 1) -> str:
    """Name the copy of citizen message ``message_id`` (a ReportMessage id) in the topic.

    A text too long for one Telegram message goes out in parts; the second is ``part`` 2.
    """
    name = f"relay:in:{message_id}:{generation}"
    return name if part == 1 else f"{name}:p{part}"


def _relay_in_part(correlation: str) -> int:
    """Return which part of a relayed citizen message ``correlation`` names."""
    for piece in correlation.split(":")[4:]:
        if piece.startswith("p") and piece[1:].isdigit():
            return int(piece[1:])
    return 1


def version_before(edit: ReportMessage, messages: Sequence[ReportMessage]) -> ReportMessage | None:
    """Return the version of the edited message just before ``edit``, among its report's."""
    assert edit.id is not None
    earlier = [
        message
        for message in messages
        if message.id is not None
        and message.id < edit.id
        and (message.chat_id, message.message_id) == (edit.chat_id, edit.message_id)
    ]
    return earlier[-1] if earlier else None


async def _relay_one(
    out: Topic,
    message: ReportMessage,
    label: str,
    room: RoomConfig,
    *,
    generation: int,
    among: Sequence[ReportMessage],
) -> None:
    assert message.id is not None

    def said(words: str) -> str:
        return render(room.lang, "staff_citizen_says", citizen=label, text=words)

    # A forwarded message says where it came from: it is not what the citizen saw.
    opening = said if not message.forwarded_from else forwarded_frame(room.lang, label, message)
    words = message.text or ""
    text_room = room_for(said, TEXT_LIMIT)
    correlation = relay_in_correlation(message.id, generation)
    if message.kind == ReportMessageKind.EDIT:
        previous = version_before(message, among)
        edited = _edited_frame(room.lang, label, previous.text if previous else None, words)
        parts = split(words, text_room, first_room=room_for(edited, TEXT_LIMIT))
        await out.send("text", {"text": edited(parts[0])}, correlation=correlation)
    elif message.kind == CONTACT_KIND:
        text = render(room.lang, "staff_citizen_contact", citizen=label, contact=words)
        await out.send("text", {"text": text}, correlation=correlation)
        return
    elif message.kind == "text" or message.chat_id is None or message.message_id is None:
        parts = split(words, text_room, first_room=room_for(opening, TEXT_LIMIT))
        await out.send("text", {"text": opening(parts[0])}, correlation=correlation)
    else:
        payload: dict[str, Any] = {
            "from_chat_id": message.chat_id,
            "message_id": message.message_id,
        }
        parts = [""]
        if message.kind in CAPTIONED:
            parts = split(words, text_room, first_room=room_for(opening, CAPTION_LIMIT))
            payload["caption"] = opening(parts[0])
        elif message.forwarded_from:  # a copy without a caption: the origin goes before it
            await out.send("text", {"text": opening("")})
        await out.send("copy", payload, correlation=correlation)
    # What did not fit follows at once, each part named so that a reply to it finds the citizen.
    for part, piece in enumerate(parts[1:], start=2):
        await out.send(
            "text",
            {"text": said(piece)},
            correlation=relay_in_correlation(message.id, generation, part),
        )


def forwarded_frame(lang: str, label: str, message: ReportMessage) -> Callable[[str], str]:
    """Return the frame (words -> HTML) of a message the citizen forwarded, naming its origin."""
    return lambda words: render(
        lang, "staff_citizen_forwarded", citizen=label, origin=message.forwarded_from, text=words
    )


def forwarded_origins(messages: Sequence[ReportMessage]) -> list[str]:
    """Return where a report's forwarded messages came from, each origin once, in order."""
    return list(dict.fromkeys(m.forwarded_from for m in messages if m.forwarded_from))


# An edit shows the version before it whole when both fit one message; else the new words come
# first, and the old ones are quoted in what room they leave, at least this many units.
EDIT_BEFORE_ROOM = 300


def _edited_frame(lang: str, label: str, before: str | None, now: str) -> Callable[[str], str]:
    """Return the frame (new words -> HTML) of an edit, with the old words fitted into it."""

    def frame(quoted: str | None) -> Callable[[str], str]:
        return lambda words: render(
            lang, "staff_citizen_edited", citizen=label, before=quoted, text=words
        )

    if before:
        free = room_for(frame(CUT), TEXT_LIMIT) + utf16_len(CUT)  # units for both texts
        before = clip(before, max(free - utf16_len(now), EDIT_BEFORE_ROOM))
    return frame(before)


async def incident_of_report(*, session: AsyncSession, report: Report) -> Incident | None:
    """Return the incident a report belongs to."""
    if report.incident_id is None:
        return None
    return await get_incident(session=session, incident_id=report.incident_id)


STAFF_ROOM_LOCK = "jikimi.staff_room"


class StaffRoom:
    """The situation room's side of citizen reporting (a ``situation.intake.ReportListener``).

    With ``wake`` the citizen's transaction only asks for the staff room to be brought up to
    date once it commits (see bot.projector): citizens never wait for topics and cards. Without
    it, the report is posted inside the citizen's transaction.
    """

    def __init__(self, room: RoomConfig, *, wake: Callable[[], None] | None = None) -> None:
        self.room = room
        self.wake = wake

    async def report_changed(self, *, session: AsyncSession, report: Report, result: Any) -> None:
        """Open a topic for a new incident, post a joining report, or relay a new message."""
        if self.wake is not None:
            after_commit(session, self.wake)
            return
        await on_report(session=session, report=report, room=self.room, now=report.updated_at)


async def on_report(
    *,
    session: AsyncSession,
    report: Report,
    room: RoomConfig,
    now: datetime,
    joined: dict[int, JoinedReports] | None = None,
) -> None:
    """Bring the staff room up to date with one report (idempotent).

    With ``joined``, a report joining an existing topic is collected there instead of posted,
    so that a batch posts each incident's new reports, and redraws its card, once.
    """
    if room.chat_id is None or report.status not in (ReportStatus.FILED, ReportStatus.CANCELLED):
        return
    incident = await incident_of_report(session=session, report=report)
    if incident is None or incident.id is None:
        return
    topic = await get_topic(session=session, incident_id=incident.id)
    if report.status == ReportStatus.CANCELLED:
        await _on_cancelled(session, report, incident, topic, room, now)
        return
    if topic is None:
        await open_topic(session=session, incident=incident, room=room, now=now)
        return
    messages = await messages_of_report(session=session, report_id=report.id or 0)
    if messages and not any(message.relayed for message in messages):
        if joined is None:
            await _post_joined(session, JoinedReports(incident, topic, [report]), room, now)
        else:
            joined.setdefault(incident.id, JoinedReports(incident, topic, [])).reports.append(
                report
            )
        return
    # An edit can change the card's first words and priority, a photo its count, a first
    # location its place: those follow-ups redraw it. So do words that changed the incident
    # itself: its scenario (the topic's name no longer fits) or its priority (the running
    # deadline is on another priority's clock), which then moves to the new priority. And
    # so does a notice (the citizen picked a scenario, or urgent words raised the incident,
    # acknowledged or not: no running deadline tells that), posted in the topic first.
    fresh = [m for m in messages if not m.relayed]
    hurried = await _deadline_behind(session, incident) if fresh else False
    redraw = (
        hurried
        or (bool(fresh) and topic.name != topic_name(incident))
        or any(m.kind in CARD_CHANGING_KINDS or m.forwarded_from for m in fresh)
    )
    await relay_citizen_messages(session=session, incident=incident, report=report, room=room)
    if hurried:
        from situation.deadlines import reprioritise_deadline  # deadlines posts through here

        await reprioritise_deadline(session=session, incident=incident, room=room, now=now)
    if redraw:
        await refresh_card(session=session, incident=incident, room=room, now=now)


async def _deadline_behind(session: AsyncSession, incident: Incident) -> bool:
    """Whether the incident's running deadline runs on another priority than the incident's."""
    assert incident.id is not None
    deadline = await get_deadline(session=session, incident_id=incident.id)
    if deadline is None or deadline.cancelled_at is not None:
        return False
    return deadline.priority != incident.priority


async def _on_cancelled(
    session: AsyncSession,
    report: Report,
    incident: Incident,
    topic: IncidentTopic | None,
    room: RoomConfig,
    now: datetime,
) -> None:
    """Tell the topic that a citizen cancelled a report staff were shown, and redraw the card.

    A report cancelled before the topic showed it is not shown at all: its messages are only
    marked relayed, so that no pass looks at them again.
    """
    assert report.id is not None
    messages = await messages_of_report(session=session, report_id=report.id)
    fresh = [message for message in messages if not message.relayed]
    if topic is None or len(fresh) == len(messages):
        await mark_relayed(session=session, messages=fresh)
        return
    await relay_citizen_messages(session=session, incident=incident, report=report, room=room)
    await refresh_card(session=session, incident=incident, room=room, now=now)


CARD_CHANGING_KINDS = frozenset(
    {
        ReportMessageKind.EDIT,
        ReportMessageKind.MOVED,
        "photo",
        "location",
        "venue",
        *ReportMessageKind.NOTICES,
    }
)
"""Follow-up messages after which the card shows something else (see :func:`on_report`)."""


@dataclass
class JoinedReports:
    """Reports that joined an incident's existing topic in one pass."""

    incident: Incident
    topic: IncidentTopic
    reports: list[Report]


# A surge joins dozens of reports to one incident within seconds; Telegram lets a group receive
# about 20 messages a minute, so they are posted as one digest (photos as albums) per pass.
# Each report is quoted in this many UTF-16 units, cut before escaping; a digest message holds
# at most DIGEST_MESSAGE_LIMIT units as Telegram counts them (it would take 4096).
DIGEST_TEXT_LIMIT = 160
DIGEST_MESSAGE_LIMIT = 3500


async def _post_joined(
    session: AsyncSession, batch: JoinedReports, room: RoomConfig, now: datetime
) -> None:
    """Post the reports that joined one incident, record them, and redraw its card.

    A joining report whose urgent words raised the incident to P1 is followed by the same 🚨
    notice as a citizen's own urgent follow-up (naming the holder), and a running deadline
    moves to P1's clock.
    """
    incident = batch.incident
    assert incident.id is not None
    urgent: list[tuple[Report, ReportMessage]] = []
    for report in batch.reports:
        messages = await messages_of_report(session=session, report_id=report.id or 0)
        urgent.extend(
            (report, m) for m in messages if m.kind == ReportMessageKind.URGENT and not m.relayed
        )
    if len(batch.reports) == 1:
        await post_report_content(
            session=session, topic=batch.topic, report=batch.reports[0], lang=room.lang
        )
    else:
        await _post_digest(session, batch, room)
    out = Topic(session=session, topic=batch.topic)
    for report, notice in urgent:
        label = await _citizen_label(report)
        await _post_notice(session, out, notice, label, incident, room)
    for report in batch.reports:
        await record(
            session=session,
            incident_id=incident.id,
            action="report_joined",
            actor=SYSTEM,
            now=now,
            after={"report": report.reference, "reports": incident.report_count},
        )
    # Only a joining report's urgent words change the priority behind the deadline's back (staff
    # changes move it themselves): the deadline is read only then, not for every joined batch.
    if urgent and await _deadline_behind(session, incident):
        from situation.deadlines import reprioritise_deadline  # deadlines posts through here

        await reprioritise_deadline(session=session, incident=incident, room=room, now=now)
    await refresh_card(session=session, incident=incident, room=room, now=now)


async def _post_digest(session: AsyncSession, batch: JoinedReports, room: RoomConfig) -> None:
    """Queue one message listing several joined reports, then their photos as albums and files."""
    out = Topic(session=session, topic=batch.topic)
    lines: list[dict[str, Any]] = []
    photos: list[ReportMedia] = []
    shown: list[ReportMessage] = []
    files: list[tuple[Sequence[ReportMessage], str]] = []
    for report in batch.reports:
        assert report.id is not None
        place = None
        if report.latitude is not None and report.longitude is not None:
            place = f"{report.latitude:.5f}, {report.longitude:.5f}"
        label = await _citizen_label(report)
        messages = await messages_of_report(session=session, report_id=report.id)
        origins = forwarded_origins(messages)
        lines.append(
            {
                "citizen": label,
                "district": report.district_name,
                "place": place,
                "text": clip(report.text or "", DIGEST_TEXT_LIMIT),
                "forwarded": clip(", ".join(origins), DIGEST_TEXT_LIMIT) if origins else None,
            }
        )
        photos.extend(
            media
            for media in await media_of_report(session=session, report_id=report.id)
            if media.kind == "photo" and media.file_id
        )
        shown.extend(messages)
        files.append((messages, label))
    for chunk in _digest_chunks(lines, room.lang):
        await out.text(render(room.lang, "staff_reports_joined", count=len(chunk), lines=chunk))
    await _send_photos(out, photos, caption=render(room.lang, "staff_reports_joined_photos"))
    for messages, label in files:
        await _send_files(out, messages, caption=label)
        await _send_contacts(out, messages, room.lang, label=label)
    await mark_relayed(session=session, messages=shown)


def _digest_chunks(lines: list[dict[str, Any]], lang: str) -> list[list[dict[str, Any]]]:
    """Split digest lines so that every message stays within the digest's length limit."""
    return pack(
        lines,
        lambda chunk: render(lang, "staff_reports_joined", count=len(chunk), lines=chunk),
        DIGEST_MESSAGE_LIMIT,
    )


@dataclass(frozen=True)
class RoomSync:
    """What one pass of :func:`sync_topics` did."""

    posted: int
    deferred: bool = False  # the room's queue was full: reports wait for the next pass


async def sync_topics(
    *, session: AsyncSession, room: RoomConfig, now: datetime, limit: int | None = None
) -> RoomSync:
    """Post every filed report the staff room has not shown yet (at most ``limit``).

    Opens topics for new incidents, posts joining reports and relays new messages. Two workers
    take turns (a lock held to the end of the transaction); the reports that joined one incident
    in this pass go out together, and its card is redrawn once. Nothing is posted while the
    room's queue holds ``room.queue_limit`` messages or more.
    """
    if room.chat_id is None:
        return RoomSync(posted=0)
    await hold_lock(session=session, name=STAFF_ROOM_LOCK)
    reports = await reports_to_show(session=session, limit=limit)
    if not reports:
        return RoomSync(posted=0)
    if room.queue_limit is not None:
        queued = await pending_count(session=session, chat_id=room.chat_id)
        if queued >= room.queue_limit:
            return RoomSync(posted=0, deferred=True)
    await preload_report_content(
        session=session, report_ids=[report.id for report in reports if report.id is not None]
    )
    # Held for the pass: the session keeps loaded rows only while something refers to them.
    incident_ids = {report.incident_id for report in reports if report.incident_id is not None}
    incidents = await load_incidents(session=session, incident_ids=incident_ids)
    topics = await load_topics(session=session, incident_ids=incident_ids)
    joined: dict[int, JoinedReports] = {}
    for report in reports:
        await on_report(session=session, report=report, room=room, now=now, joined=joined)
    for batch in joined.values():
        await _post_joined(session, batch, room, now)
    await session.flush()
    del incidents, topics
    return RoomSync(posted=len(reports))


def topic_link(chat_id: int, thread_id: int | None) -> str | None:
    """Return a t.me link to a topic of a supergroup, when its thread id is known."""
    text = str(chat_id)
    if thread_id is None or not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{thread_id}"


async def incident_topic_link(
    *, session: AsyncSession, room: RoomConfig, incident_id: int
) -> str | None:
    """Return a t.me link to an incident's topic, when the topic exists and its id is known."""
    topic = await get_topic(session=session, incident_id=incident_id)
    thread = await thread_of(session=session, topic=topic) if topic is not None else None
    return topic_link(room.chat_id or 0, thread)


async def post(
    *,
    session: AsyncSession,
    room: RoomConfig,
    text: str,
    thread_id: int | None = None,
    buttons: Buttons | None = None,
) -> None:
    """Queue a message in the staff supergroup (a topic by thread id, else General).

    A text too long for one message goes out in parts (buttons on the last).
    """
    if room.chat_id is None:
        return
    parts = split_html(text, TEXT_LIMIT)
    for number, part in enumerate(parts, start=1):
        payload: dict[str, Any] = {"text": part}
        if buttons and number == len(parts):
            payload["buttons"] = buttons
        enqueue_batched(
            session=session,
            message=OutboxCreate(
                chat_id=room.chat_id,
                thread_id=thread_id,
                kind="text",
                payload=payload,
                priority=Priority.STAFF_NOTICE,
            ),
        )


RESENDABLE = frozenset({"text", "photo", "album", "location", "venue", "copy", "document", "voice"})


async def recover_topics(*, session: AsyncSession, room: RoomConfig, now: datetime) -> int:
    """Reopen topics closed by hand, recreate deleted ones, and send their failed messages again.

    The sender records ``topic_closed`` / ``thread_not_found`` on rows it could not deliver;
    a closed topic of an open incident is reopened, a deleted one is created again (a new
    generation with a fresh pinned card), then the lost messages follow. Returns the number of
    messages sent again.
    """
    if room.chat_id is None:
        return 0
    failed = await failed_topic_rows(session=session, chat_id=room.chat_id)
    by_incident: dict[int, list[Any]] = {}
    for row in failed:
        assert row.thread_ref is not None
        by_incident.setdefault(int(row.thread_ref.split(":")[1]), []).append(row)
    resent = 0
    for incident_id, rows in by_incident.items():
        topic = await get_topic(session=session, incident_id=incident_id)
        incident = await get_incident(session=session, incident_id=incident_id)
        current = [
            row
            for row in rows
            if topic and row.thread_ref == topic_correlation(incident_id, topic.generation)
        ]
        await mark_recovered(session=session, rows=rows)
        if topic is None or incident is None or not current:
            continue
        deleted = any((row.last_error or "").startswith("thread_not_found") for row in current)
        if deleted:
            topic.generation += 1
            topic.name = topic_name(incident)
            topic.state = TopicState.OPEN
            topic.updated_at = now
            await save_topic(session=session, topic=topic)
            out = Topic(session=session, topic=topic)
            await out.send(
                "create_topic", {"name": topic.name}, correlation=out.ref, in_topic=False
            )
            view = await card_view(session=session, incident=incident, room=room, now=now)
            payload: dict[str, Any] = {"text": card_text(view, lang=room.lang)}
            buttons = card_buttons(incident, lang=room.lang)
            if buttons:
                payload["buttons"] = buttons
            await out.send("text", payload, correlation=out.card_ref)
            await out.send("pin", {"disable_notification": True}, target_ref=out.card_ref)
            await out.text(render(room.lang, "staff_topic_recreated", reference=incident.reference))
        else:
            out = Topic(session=session, topic=topic)
            await out.send("reopen_topic", {})
        for row in current:
            if row.kind not in RESENDABLE:
                continue
            correlation = row.correlation
            if correlation and correlation.startswith("relay:in:"):
                correlation = relay_in_correlation(
                    int(correlation.split(":")[2]), topic.generation, _relay_in_part(correlation)
                )
                if not deleted:
                    correlation = f"{correlation}:r{row.id}"
            elif correlation:
                correlation = f"{correlation}:r{row.id}"
            await out.send(row.kind, dict(row.payload), correlation=correlation)
            resent += 1
        if incident.status == IncidentStatus.CLOSED:
            await out.send("close_topic", {})
        await record(
            session=session,
            incident_id=incident_id,
            action="topic_recreated" if deleted else "topic_reopened",
            actor=SYSTEM,
            now=now,
            after={"generation": topic.generation, "resent": len(current)},
        )
    return resent


async def topic_closed_by_hand(
    *, session: AsyncSession, room: RoomConfig, thread_id: int, now: datetime
) -> bool:
    """Reopen an open incident's topic that someone closed by hand; return whether it did."""
    if room.chat_id is None:
        return False
    incident_id = await incident_id_for_thread(
        session=session, chat_id=room.chat_id, thread_id=thread_id
    )
    if incident_id is None:
        return False
    incident = await get_incident(session=session, incident_id=incident_id)
    topic = await get_topic(session=session, incident_id=incident_id)
    if incident is None or topic is None or incident.status == IncidentStatus.CLOSED:
        return False
    out = Topic(session=session, topic=topic)
    await out.send("reopen_topic", {})
    await out.text(render(room.lang, "staff_topic_reopened", reference=incident.reference))
    await record(
        session=session,
        incident_id=incident_id,
        action="topic_reopened",
        actor=SYSTEM,
        now=now,
        after={"generation": topic.generation},
    )
    return True
