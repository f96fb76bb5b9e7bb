"""Two-way relay between an incident's topic and its citizens.

Usage (a staff message in an incident topic, inside the update's transaction)::

    result = await relay_staff_message(session=session, room=room, message=StaffMessage(...),
                                       now=now)

Staff text reaches the citizens signed as the situation room (with the staff member's name
when ``show_staff_names``); a reply to a relayed citizen message answers that citizen only,
anything else (and ``/all``) answers every citizen of the incident; lines starting with ``!``
and ``/note`` stay internal. Photos, files, audio, voice and video notes, stickers, locations
and contacts are copied as they are (media with a signed caption). What cannot be passed on
(a poll, a dice, a story, ...) reaches nobody, and the writer is told so in the topic. Citizen
messages reach the topic through :func:`situation.staffroom.relay_citizen_messages`.

Words written in the topic of an incident merged into another reach nobody: the target has
citizens the writer did not address, so the staff member is told (in their language) that
nothing was sent and where the target's topic is, and the words are kept in the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import Actor, record
from situation.limits import CAPTION_LIMIT, TEXT_LIMIT, room_for, split
from situation.outgoing import Outgoing
from situation.staffroom import RoomConfig, incident_topic_link, post, refresh_card
from situation.texts import render
from storage.chats import is_unreachable
from storage.citizens import get_citizen
from storage.incidents import get_incident
from storage.models.incidents import Incident, IncidentStatus
from storage.models.outbox import OutboxCreate, OutboxMessage, Priority
from storage.models.reports import Report, ReportMessage
from storage.outbox import enqueue
from storage.reports import get_report, reports_of_incident
from storage.topics import incident_id_for_thread

INTERNAL_PREFIX = "!"
# The kinds of staff message citizens get (a copy of the message); any other kind of content
# is not sent and the writer is warned.
RELAYED_KINDS = frozenset(
    {
        "text",
        "photo",
        "location",
        "venue",
        "document",
        "animation",
        "video",
        "voice",
        "audio",
        "video_note",
        "sticker",
        "contact",
    }
)
# The copied kinds whose caption is replaced by the staff member's words, signed.
CAPTIONED_KINDS = frozenset({"photo", "document", "animation", "video", "voice", "audio"})


@dataclass(frozen=True)
class StaffMessage:
    """A message a staff member posted in the staff supergroup, independent of the messenger."""

    chat_id: int
    thread_id: int
    message_id: int
    kind: str  # one of RELAYED_KINDS, or the name of content that cannot be relayed ("poll")
    actor: Actor
    text: str | None = None
    reply_to_message_id: int | None = None
    to_all: bool = False
    # Where the words were written when not in the topic (an expert community in the hub):
    # with ``message_id`` it names the message, so every answer is its own delivery.
    source_chat_id: int | None = None
    # The writer's language for what the bot answers them (None: the staff room's).
    lang: str | None = None


@dataclass(frozen=True)
class Recipient:
    """A citizen of an incident: their private chat, language and report."""

    chat_id: int
    lang: str
    report: Report


@dataclass
class RelayResult:
    """What the relay did: how many citizens got the message, or why nothing was sent."""

    incident_id: int | None = None
    sent: int = 0
    internal: bool = False
    problem: str | None = (
        None  # "no_incident" | "unsupported" | "closed" | "merged" | "no_citizens"
    )


async def recipients(*, session: AsyncSession, incident_id: int) -> list[Recipient]:
    """Return each reachable citizen of an incident once, with their first report."""
    found: dict[int, Recipient] = {}
    for report in await reports_of_incident(session=session, incident_id=incident_id):
        if report.citizen_id is None:
            continue
        citizen = await get_citizen(session=session, citizen_id=report.citizen_id)
        if citizen is None or citizen.telegram_user_id is None or citizen.blocked:
            continue
        # Blocked the bot (Telegram told us, or a send got 403): staff must hear it got nothing.
        if await is_unreachable(session=session, chat_id=citizen.telegram_user_id):
            continue
        if citizen.telegram_user_id not in found:
            found[citizen.telegram_user_id] = Recipient(
                chat_id=citizen.telegram_user_id,
                lang=citizen.language or report.language,
                report=report,
            )
    return list(found.values())


async def incident_for_topic(
    *, session: AsyncSession, chat_id: int, thread_id: int
) -> Incident | None:
    """Return the incident whose topic is ``thread_id``."""
    incident_id = await incident_id_for_thread(
        session=session, chat_id=chat_id, thread_id=thread_id
    )
    if incident_id is None:
        return None
    return await get_incident(session=session, incident_id=incident_id)


async def replied_report(*, session: AsyncSession, chat_id: int, message_id: int) -> Report | None:
    """Return the report whose relayed citizen message is ``message_id`` in the staff chat.

    That is a citizen's message copied into the topic (``relay:in:<message>``) or the words of
    a report posted there (``report:in:<incident>:<generation>:<report>``).
    """
    statement = select(col(OutboxMessage.correlation)).where(
        col(OutboxMessage.chat_id) == chat_id,
        col(OutboxMessage.result_message_id) == message_id,
        or_(
            col(OutboxMessage.correlation).like("relay:in:%"),
            col(OutboxMessage.correlation).like("report:in:%"),
        ),
    )
    correlation = (await session.exec(statement)).first()
    if correlation is None:
        return None
    if correlation.startswith("report:in:"):
        return await get_report(session=session, report_id=int(correlation.split(":")[4]))
    report_message = await session.get(ReportMessage, int(correlation.split(":")[2]))
    if report_message is None:
        return None
    return await get_report(session=session, report_id=report_message.report_id)


def signature(room: RoomConfig, actor: Actor) -> str | None:
    """Return the staff name to show citizens, or None when names are hidden."""
    return actor.name if room.show_staff_names else None


def is_internal(text: str | None) -> bool:
    """Whether a staff message is an internal note that citizens must never see."""
    return bool(text) and text.lstrip().startswith(INTERNAL_PREFIX)  # type: ignore[union-attr]


async def relay_staff_message(
    *, session: AsyncSession, room: RoomConfig, message: StaffMessage, now: datetime
) -> RelayResult:
    """Relay a staff message from an incident topic to one citizen or all of them."""
    incident = await incident_for_topic(
        session=session, chat_id=message.chat_id, thread_id=message.thread_id
    )
    if incident is None or incident.id is None:
        return RelayResult(problem="no_incident")
    result = RelayResult(incident_id=incident.id)
    if message.kind not in RELAYED_KINDS:
        result.problem = "unsupported"
        await _warn(session, room, message, "relay_unsupported")
        return result
    if message.kind == "text" and is_internal(message.text):
        result.internal = True
        await record(
            session=session,
            incident_id=incident.id,
            action="note",
            actor=message.actor,
            now=now,
            note=(message.text or "").lstrip()[1:].strip(),
        )
        return result
    if incident.merged_into_id is not None:
        result.problem = "merged"
        await _refuse_merged(session, room, message, incident, now)
        return result
    if incident.status == IncidentStatus.CLOSED:
        result.problem = "closed"
        await _warn(session, room, message, "relay_closed")
        return result
    targets = await recipients(session=session, incident_id=incident.id)
    if message.reply_to_message_id is not None and not message.to_all:
        report = await replied_report(
            session=session, chat_id=message.chat_id, message_id=message.reply_to_message_id
        )
        if report is not None:
            targets = [
                target for target in targets if target.report.citizen_id == report.citizen_id
            ]
    if not targets:
        result.problem = "no_citizens"
        await _warn(session, room, message, "relay_nobody")
        return result
    for target in targets:
        await _deliver(session, room, message, target)
    result.sent = len(targets)
    started = incident.status == IncidentStatus.ACKNOWLEDGED
    if started:
        incident.status = IncidentStatus.IN_PROGRESS
        incident.updated_at = now
        session.add(incident)
    await record(
        session=session,
        incident_id=incident.id,
        action="message_out",
        actor=message.actor,
        now=now,
        after={"to": [target.report.reference for target in targets], "kind": message.kind},
        note=message.text,
    )
    if started:  # the card shows the status: it must not stay "acknowledged"
        await refresh_card(session=session, incident=incident, room=room, now=now)
    return result


async def _warn(session: AsyncSession, room: RoomConfig, message: StaffMessage, key: str) -> None:
    """Tell the staff member in the topic that the message reached nobody."""
    await post(
        session=session,
        room=room,
        text=render(message.lang or room.lang, "staff_answer", key=key),
        thread_id=message.thread_id,
    )


async def merge_target(*, session: AsyncSession, incident: Incident) -> Incident:
    """Return the incident a merged one lives on in (following merges of merges)."""
    seen = {incident.id}
    while incident.merged_into_id is not None and incident.merged_into_id not in seen:
        target = await get_incident(session=session, incident_id=incident.merged_into_id)
        if target is None:
            break
        seen.add(target.id)
        incident = target
    return incident


async def _refuse_merged(
    session: AsyncSession,
    room: RoomConfig,
    message: StaffMessage,
    incident: Incident,
    now: datetime,
) -> None:
    """Send nothing; point the writer to the target's topic and keep the words on record."""
    assert incident.id is not None
    target = await merge_target(session=session, incident=incident)
    assert target.id is not None
    await record(
        session=session,
        incident_id=incident.id,
        action="message_refused",
        actor=message.actor,
        now=now,
        after={"kind": message.kind, "merged_into": target.reference},
        note=message.text,
    )
    link = await incident_topic_link(session=session, room=room, incident_id=target.id)
    await post(
        session=session,
        room=room,
        text=render(
            message.lang or room.lang,
            "staff_relay_merged",
            reference=target.reference or f"#{target.id}",
            link=link,
            closed=target.status == IncidentStatus.CLOSED,
        ),
        thread_id=message.thread_id,
    )


async def _deliver(
    session: AsyncSession, room: RoomConfig, message: StaffMessage, target: Recipient
) -> None:
    source = message.source_chat_id or message.chat_id
    correlation = f"relay:out:{source}:{message.message_id}:{target.chat_id}"
    name = signature(room, message.actor)

    def reply(words: str) -> str:
        return render(
            target.lang,
            "citizen_staff_reply",
            reference=target.report.reference,
            text=words,
            signature=name,
        )

    def caption(words: str) -> str:
        return render(target.lang, "staff_relay_caption", text=words, signature=name)

    words = message.text or ""
    payload: dict[str, Any]
    if message.kind == "text":
        parts = split(words, room_for(reply, TEXT_LIMIT))
        kind, payload = "text", {"text": reply(parts[0])}
    else:
        parts = [""]
        kind = "copy"
        payload = {"from_chat_id": message.chat_id, "message_id": message.message_id}
        if message.kind in CAPTIONED_KINDS:
            parts = split(
                words, room_for(reply, TEXT_LIMIT), first_room=room_for(caption, CAPTION_LIMIT)
            )
            payload["caption"] = caption(parts[0])
    await _queue(session, target, kind, payload, correlation)
    # What did not fit follows at once (the rows of one chat go out in the order queued).
    for part, piece in enumerate(parts[1:], start=2):
        await _queue(session, target, "text", {"text": reply(piece)}, f"{correlation}:p{part}")


EDITABLE = ("text", *sorted(CAPTIONED_KINDS))


async def relay_staff_edit(
    *, session: AsyncSession, room: RoomConfig, message: StaffMessage, now: datetime
) -> int:
    """Send a staff message's corrected words to each citizen who got it; return how many.

    Only the citizens the message reached hear the correction (a reply stays with its
    citizen), each in their language; a message that reached nobody (an internal note, words
    in a merged-away topic) reaches nobody when edited, and an edit into a note sends nothing.
    """
    words = message.text or ""
    if message.kind not in EDITABLE or not words.strip() or is_internal(words):
        return 0
    incident = await incident_for_topic(
        session=session, chat_id=message.chat_id, thread_id=message.thread_id
    )
    if incident is None or incident.id is None:
        return 0
    reached = await _reached(session, message)
    if not reached:
        return 0
    live = await merge_target(session=session, incident=incident)  # where the citizens are now
    targets = [
        target
        for target in await recipients(session=session, incident_id=live.id or incident.id)
        if target.chat_id in reached
    ]
    name = signature(room, message.actor)
    edit = await _edit_number(session, message)
    for target in targets:

        def corrected(text: str, target: Recipient = target) -> str:
            return render(
                target.lang,
                "citizen_staff_correction",
                reference=target.report.reference,
                text=text,
                signature=name,
            )

        correlation = f"relay:edit:{message.chat_id}:{message.message_id}:{edit}:{target.chat_id}"
        for part, piece in enumerate(split(words, room_for(corrected, TEXT_LIMIT)), start=1):
            suffix = "" if part == 1 else f":p{part}"
            await _queue(session, target, "text", {"text": corrected(piece)}, correlation + suffix)
    await record(
        session=session,
        incident_id=incident.id,
        action="message_edit",
        actor=message.actor,
        now=now,
        after={"to": [target.report.reference for target in targets], "kind": message.kind},
        note=words,
    )
    return len(targets)


async def _reached(session: AsyncSession, message: StaffMessage) -> set[int]:
    """Return the citizens' chats a staff message was relayed to (its first parts)."""
    prefix = f"relay:out:{message.chat_id}:{message.message_id}:"
    statement = select(col(OutboxMessage.correlation)).where(
        col(OutboxMessage.correlation).like(f"{prefix}%")
    )
    rest = [str(c)[len(prefix) :] for c in (await session.exec(statement)).all()]
    return {int(chat) for chat in rest if chat.lstrip("-").isdigit()}


async def _edit_number(session: AsyncSession, message: StaffMessage) -> int:
    """Return which edit of the message this is (1, 2, ...): each has its own deliveries."""
    prefix = f"relay:edit:{message.chat_id}:{message.message_id}:"
    statement = select(col(OutboxMessage.correlation)).where(
        col(OutboxMessage.correlation).like(f"{prefix}%")
    )
    numbers = [str(c)[len(prefix) :].split(":", 1)[0] for c in (await session.exec(statement))]
    return max((int(n) for n in numbers if n.isdigit()), default=0) + 1


async def _queue(
    session: AsyncSession, target: Recipient, kind: str, payload: dict[str, Any], correlation: str
) -> None:
    await enqueue(
        session=session,
        message=OutboxCreate(
            chat_id=target.chat_id,
            kind=kind,
            payload=payload,
            correlation=correlation,
            priority=Priority.CITIZEN_REPLY,
        ),
    )


async def send_canned(
    *, session: AsyncSession, incident_id: int, key: str, actor: Actor, now: datetime
) -> int:
    """Send canned reply ``key`` to every citizen of an incident, each in their language."""
    targets = await recipients(session=session, incident_id=incident_id)
    for target in targets:
        out = Outgoing(session=session, chat_id=target.chat_id, lang=target.lang)
        await out.message(
            "citizen_staff_reply",
            reference=target.report.reference,
            text=Markup(render(target.lang, "staff_canned", key=key)),
            signature=None,
        )
    await record(
        session=session,
        incident_id=incident_id,
        action="canned",
        actor=actor,
        now=now,
        after={"key": key, "to": [target.report.reference for target in targets]},
    )
    return len(targets)
