"""Staff commands in the staff supergroup: /note /all /close /release /reopen /ref /canned
/history in an incident topic; /help /stats /duty /handbook /staff anywhere in the supergroup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.hub_admin import BotHubAdmin
from community.hub_work import HubWork
from handlers.common.ids import typed_id
from handlers.staff.filters import actor_of, in_staff_chat
from handlers.staff.relay import staff_message
from manuals.render import render_handbook
from situation import audit, roles, roster, stats, triage
from situation.cards import CANNED, StaffAction
from situation.clock import Clock
from situation.relay import incident_for_topic, relay_staff_message
from situation.staffroom import RoomConfig, post
from situation.texts import render
from storage.models.incidents import Incident
from storage.models.staff import StaffMember, StaffRole


async def _answer(session: Any, room: RoomConfig, message: Message, text: str) -> None:
    """Post in the staff room, in the topic the message was written in."""
    await post(session=session, room=room, text=text, thread_id=message.message_thread_id)


async def _refuse(session: Any, room: RoomConfig, message: Message, key: str) -> None:
    await _answer(session, room, message, render(room.lang, "staff_answer", key=key))


async def _usage(session: Any, room: RoomConfig, message: Message, command: str) -> None:
    """Answer with how the command is typed."""
    teams = list(room.roster.teams) if room.roster is not None else []
    await _answer(
        session, room, message, render(room.lang, "staff_usage", command=command, teams=teams)
    )


async def _incident(session: Any, room: RoomConfig, message: Message) -> Incident | None:
    if not message.message_thread_id or not message.is_topic_message:
        return None
    return await incident_for_topic(
        session=session, chat_id=message.chat.id, thread_id=message.message_thread_id
    )


async def _incident_in_topic(session: Any, room: RoomConfig, message: Message) -> int | None:
    """Return the id of the incident whose topic the message is in, or refuse and return None."""
    incident = await _incident(session, room, message)
    if incident is None or incident.id is None:
        await _refuse(session, room, message, "not_in_topic")
        return None
    return incident.id


async def note(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
) -> None:
    """Record an internal note on the topic's incident (never relayed)."""
    if staff_member is None:
        return
    incident_id = await _incident_in_topic(session, room, message)
    if incident_id is None:
        return
    if not (command.args or "").strip():
        await _usage(session, room, message, "note")
        return
    await triage.add_note(
        session=session,
        incident_id=incident_id,
        text=command.args or "",
        actor=actor_of(staff_member),
        now=clock.now(),
    )


async def to_all(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
    lang: str,
) -> None:
    """Send the text to every citizen of the topic's incident."""
    if staff_member is None:
        return
    if await _incident_in_topic(session, room, message) is None:
        return
    if not (command.args or "").strip():
        await _usage(session, room, message, "all")
        return
    described = replace(
        staff_message(message, staff_member, text=command.args, lang=lang), to_all=True
    )
    await relay_staff_message(session=session, room=room, message=described, now=clock.now())


async def close(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
    hub_work: HubWork | None = None,
) -> None:
    """Close the topic's incident: ``/close [resolved|false_alarm|duplicate] [note]``."""
    if staff_member is None:
        return
    incident_id = await _incident_in_topic(session, room, message)
    if incident_id is None:
        return
    reason, note_text = triage.close_arguments(command.args)
    if reason is None:
        await _answer(session, room, message, triage.close_usage(room.lang))
        return
    outcome = await triage.close(
        session=session,
        incident_id=incident_id,
        reason=reason,
        actor=actor_of(staff_member),
        room=room,
        now=clock.now(),
        note=note_text,
        hub=BotHubAdmin(bot),
        work=hub_work,
    )
    if not outcome.ok:
        await _answer(session, room, message, outcome.answer)


async def release(
    message: Message,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Give the topic's incident back to the queue (its holder, or a lead): ``/release``."""
    await _holder_action(triage.release, message, session, room, clock, role, staff_member)


async def reopen(
    message: Message,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Reopen the topic's closed incident (a lead, or whoever closed it): ``/reopen``."""
    await _holder_action(triage.reopen_incident, message, session, room, clock, role, staff_member)


async def _holder_action(
    action: Callable[..., Awaitable[triage.Outcome]],
    message: Message,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Run a triage action on the topic's incident; a refusal is answered, a success is the
    topic's own note."""
    if staff_member is None:
        return
    incident_id = await _incident_in_topic(session, room, message)
    if incident_id is None:
        return
    outcome = await action(
        session=session,
        incident_id=incident_id,
        actor=actor_of(staff_member),
        role=role,
        room=room,
        now=clock.now(),
    )
    if not outcome.ok:
        await _answer(session, room, message, outcome.answer)


async def reference(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
) -> None:
    """Attach the agency's reference number to the latest hand-over: ``/ref NUMBER``."""
    if staff_member is None:
        return
    incident_id = await _incident_in_topic(session, room, message)
    if incident_id is None:
        return
    number = (command.args or "").strip()
    if not number:
        await _usage(session, room, message, "ref")
        return
    outcome = await triage.set_handover_reference(
        session=session,
        incident_id=incident_id,
        reference=number,
        actor=actor_of(staff_member),
        room=room,
        now=clock.now(),
    )
    await _answer(session, room, message, outcome.answer)


async def canned(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
) -> None:
    """Send a canned reply (``/canned KEY``) or show the canned-reply buttons on the card."""
    if staff_member is None:
        return
    incident_id = await _incident_in_topic(session, room, message)
    if incident_id is None:
        return
    key = (command.args or "").strip()
    action = (
        StaffAction("cndx", incident_id, key) if key in CANNED else StaffAction("cnd", incident_id)
    )
    outcome = await triage.perform(
        session=session, action=action, actor=actor_of(staff_member), room=room, now=clock.now()
    )
    await _answer(session, room, message, outcome.answer)


async def history(
    message: Message, session: Any, room: RoomConfig, staff_member: StaffMember | None
) -> None:
    """Show the timeline of the topic's incident."""
    if staff_member is None:
        return
    incident = await _incident(session, room, message)
    if incident is None or incident.id is None:
        await _refuse(session, room, message, "not_in_topic")
        return
    text = await audit.history(
        session=session,
        incident_id=incident.id,
        lang=room.lang,
        reference=incident.reference or f"#{incident.id}",
        timezone=room.timezone,
    )
    await _answer(session, room, message, text)


async def show_stats(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
) -> None:
    """Show the figures of the last N days (``/stats [days]``, 7 by default)."""
    if staff_member is None:
        return
    now = clock.now()
    figures = await stats.compute_stats(
        session=session,
        since=now - timedelta(days=stats.period_days(command.args)),
        until=now,
        timezone=room.timezone,
    )
    for text in stats.render_stats(figures, lang=room.lang, timezone=room.timezone):
        await _answer(session, room, message, text)


async def duty(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Show who is on duty now and next; ``/duty set TEAM`` (leads) changes the current shift."""
    if staff_member is None:
        return
    words = (command.args or "").split()
    now = clock.now()
    if words and room.roster is not None:
        if words[0] != "set" or len(words) != 2 or words[1] not in room.roster.teams:
            await _usage(session, room, message, "duty")
            return
        refused = roles.refusal(role, "duty_edit", room.lang)
        if refused is not None:
            await _answer(session, room, message, refused)
            return
        try:
            await roster.set_override(
                session=session,
                roster=room.roster,
                team=words[1],
                now=now,
                set_by=staff_member.telegram_user_id,
            )
        except ValueError:
            await _usage(session, room, message, "duty")
            return
    text = await roster.duty_text(session=session, roster=room.roster, now=now, lang=room.lang)
    await _answer(session, room, message, text)


async def handbook(
    message: Message, session: Any, room: RoomConfig, staff_member: StaffMember | None
) -> None:
    """Post the situation team's handbook (every page)."""
    if staff_member is None:
        return
    context = {
        f"sla_{p.lower()}_minutes": room.ack_minutes.get(p) for p in ("P1", "P2", "P3", "P4")
    }
    rendered = render_handbook(room.lang, **{k: v for k, v in context.items() if v is not None})
    for page in rendered.pages:
        await _answer(session, room, message, page)


async def help_command(
    message: Message, session: Any, room: RoomConfig, staff_member: StaffMember | None
) -> None:
    """List the staff commands, where they were asked for."""
    if staff_member is None:
        return
    await _answer(session, room, message, render(room.lang, "staff_help"))


async def staff(
    message: Message,
    command: CommandObject,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Manage staff (admins): ``/staff list``, ``/staff add ID ROLE NAME``, ``/staff remove ID``;
    ``add ROLE`` or ``remove`` in reply to someone's message works too."""
    if staff_member is None:
        return
    words = (command.args or "list").split()
    refused = roles.refusal(role, "staff_manage", room.lang)
    if words[0] != "list" and refused is not None:
        await _answer(session, room, message, refused)
        return
    if words[0] not in ("list", "add", "remove"):
        await _usage(session, room, message, "staff")
        return
    reply_user = message.reply_to_message.from_user if message.reply_to_message else None
    now = clock.now()
    if words[0] == "add":
        if reply_user is not None and len(words) >= 2 and words[1] in StaffRole.ALL:
            user_id, new_role, name = reply_user.id, words[1], reply_user.full_name
        elif (
            len(words) >= 4
            and (typed := typed_id(words[1])) is not None
            and words[2] in StaffRole.ALL
        ):
            user_id, new_role, name = typed, words[2], " ".join(words[3:])
        else:
            await _usage(session, room, message, "staff")
            return
        await roles.register(session=session, user_id=user_id, name=name, role=new_role, now=now)
    elif words[0] == "remove":
        target = reply_user.id if reply_user is not None else None
        if target is None and len(words) >= 2:
            target = typed_id(words[1])
        if target is None:
            await _usage(session, room, message, "staff")
            return
        await roles.unregister(session=session, user_id=target, now=now)
    text = await roles.roster_text(session=session, lang=room.lang)
    await _answer(session, room, message, text)


STAFF_COMMANDS = (
    "note",
    "all",
    "close",
    "release",
    "reopen",
    "ref",
    "canned",
    "history",
    "stats",
    "duty",
    "handbook",
    "help",
    "staff",
)


def _not_staff(message: Message, staff_member: StaffMember | None = None) -> bool:
    """Whether the writer is not registered staff."""
    return staff_member is None


async def not_staff(message: Message, session: Any, room: RoomConfig, lang: str) -> None:
    """Tell someone in the group who is not registered staff that the command is staff's."""
    await _answer(session, room, message, render(lang, "staff_answer", key="refused"))


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    # Commands come in text only: a photo captioned "/close" is a staff message to the topic,
    # which the relay passes to the citizen. The text check also spares other messages the
    # eleven command filters.
    router.message.filter(in_staff_chat, F.text.startswith("/"))
    # Someone who is not registered staff hears so, as a card button tells them.
    router.message.register(not_staff, Command(*STAFF_COMMANDS), _not_staff)
    router.message.register(note, Command("note"))
    router.message.register(to_all, Command("all"))
    router.message.register(close, Command("close"))
    router.message.register(release, Command("release"))
    router.message.register(reopen, Command("reopen"))
    router.message.register(reference, Command("ref"))
    router.message.register(canned, Command("canned"))
    router.message.register(history, Command("history"))
    router.message.register(show_stats, Command("stats"))
    router.message.register(duty, Command("duty"))
    router.message.register(handbook, Command("handbook"))
    router.message.register(help_command, Command("help"))
    router.message.register(staff, Command("staff"))
    return router
