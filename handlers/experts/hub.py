"""The experts' hub: join requests, staff moderation by replying, and the transcript.

In a community topic staff reply to a member's message with /mute, /unmute, /remove, /del,
/pin or /decision, or write /readonly on|off, /decision TEXT, /close. Every other message in a
community topic is stored in the transcript.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ChatJoinRequest, ChatMemberUpdated, Message

from bot.hub_admin import CommunitySweeper
from bot.settings import Settings
from community.access import is_staff
from community.errors import CommunityError
from community.hub_work import HubWork
from community.invitations import member_left
from community.joins import decide_join_request
from community.lookup import community_of_hub_topic
from community.outgoing import tell_staff
from community.relay import community_to_citizens
from community.transcript import EDIT_KIND, record_message, role_of
from handlers.experts.common import first_int, hub_of, replied_message_id, replied_user
from handlers.experts.moderating import close_by_staff, moderate
from situation.audit import Actor
from situation.clock import Clock
from situation.staffroom import RoomConfig
from situation.texts import render
from storage.models.communities import Community, CommunityState
from storage.models.staff import StaffMember

log = logging.getLogger(__name__)

SWEEPER_KEY = "community_sweeper"
HUB_COMMANDS = (
    "mute",
    "unmute",
    "remove",
    "del",
    "pin",
    "readonly",
    "decision",
    "tocitizen",
    "close",
)
CONTENT_KINDS = ("text", "photo", "document", "video", "voice", "audio", "sticker", "location")


def in_hub(event: Message | ChatJoinRequest | ChatMemberUpdated, settings: Settings) -> bool:
    """Whether the update comes from the configured experts' hub."""
    return settings.experts_hub_id is not None and event.chat.id == settings.experts_hub_id


def staff_speaks(message: Message, role: str | None = None, staff_member: Any = None) -> bool:
    """Whether the message comes from the situation room's staff (others' commands are talk)."""
    return staff_member is not None and is_staff(role)


async def join_request(
    request: ChatJoinRequest,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    lang: str,
    hub_work: HubWork | None = None,
) -> None:
    """Approve an invited, verified expert; decline anyone else with the reason."""
    assert hub_work is not None, "the dispatcher provides hub_work"
    now = clock.now()
    decided = await decide_join_request(
        session=session,
        chat_id=request.chat.id,
        user_id=request.from_user.id,
        invite_link=request.invite_link.invite_link if request.invite_link else None,
        now=now,
        lang=lang,
        staff_lang=settings.default_language,
    )
    assert decided.id is not None
    # Telegram hears the answer once the decision has committed, outside the transaction.
    hub_work.answer_join_after_commit(session, hub=hub_of(bot), request_id=decided.id, now=now)
    log.info(
        "join request of %s: %s (%s)",
        request.from_user.id,
        "to approve" if decided.approve else "to decline",
        decided.reason,
    )


async def member_update(event: ChatMemberUpdated, session: Any, clock: Clock) -> None:
    """Note who left the hub (or was banned) in the communities they had joined."""
    if event.new_chat_member.status in ("left", "kicked"):
        await member_left(
            session=session,
            hub_chat_id=event.chat.id,
            user_id=event.new_chat_member.user.id,
            now=clock.now(),
        )


async def _community(message: Message, session: Any) -> Community | None:
    return await community_of_hub_topic(
        session=session, hub_chat_id=message.chat.id, topic_id=message.message_thread_id
    )


async def hub_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
    room: RoomConfig | None = None,
    hub_work: HubWork | None = None,
) -> None:
    """Moderate a community from inside its topic (staff only)."""
    community = await _community(message, session)
    if community is None or staff_member is None:
        return
    lang = settings.default_language
    try:
        await _moderate(
            command, message, bot, session, settings, clock, community, staff_member, room, hub_work
        )
    except CommunityError as error:
        await tell_staff(
            session=session,
            community=community,
            text=render(lang, error.code, **error.context),
        )


async def _moderate(
    command: CommandObject,
    message: Message,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    community: Community,
    staff_member: StaffMember,
    room: RoomConfig | None,
    hub_work: HubWork | None,
) -> None:
    lang = settings.default_language
    hub = hub_of(bot)
    now = clock.now()
    name = command.command.lower()
    if name == "tocitizen":
        reply = message.reply_to_message
        text = (command.args or "").strip()
        if not text and reply is not None and reply.message_id != message.message_thread_id:
            text = reply.text or reply.caption or ""
        if room is None:
            raise CommunityError("community_error_no_target")
        result = await community_to_citizens(
            session=session,
            community=community,
            room=room,
            actor=Actor(user_id=staff_member.telegram_user_id, name=staff_member.name),
            text=text,
            message_id=message.message_id,
            now=now,
        )
        await tell_staff(
            session=session,
            community=community,
            text=render(lang, "community_relayed_out", sent=result.sent),
        )
    elif name == "close":
        await close_by_staff(
            session=session,
            hub=hub,
            community=community,
            staff_member=staff_member,
            now=now,
            settings=settings,
            work=hub_work,
        )
    else:
        # The target is the message replied to (or its author), else a user id after the command.
        number = first_int(command.args)
        await moderate(
            name,
            args=command.args,
            user=replied_user(message) or ((number, "") if number is not None else None),
            message_id=replied_message_id(message),
            session=session,
            hub=hub,
            community=community,
            staff_member=staff_member,
            now=now,
            lang=lang,
            work=hub_work,
        )


def _kind(message: Message) -> str | None:
    for kind in CONTENT_KINDS:
        if getattr(message, kind, None):
            return kind
    return None


async def transcript(message: Message, session: Any, clock: Clock, role: str | None) -> None:
    """Store a message written in a community topic, with its author and role."""
    kind = _kind(message)
    if kind is not None:
        await _record(message, session, clock, role, kind=kind, message_id=message.message_id)


async def transcript_edit(message: Message, session: Any, clock: Clock, role: str | None) -> None:
    """Store the new words of a message edited in a community topic, after the old ones."""
    if message.text or message.caption:
        # The message's own entry keeps its id (pins, decisions, deletions).
        await _record(message, session, clock, role, kind=EDIT_KIND, message_id=None)


async def _record(
    message: Message,
    session: Any,
    clock: Clock,
    role: str | None,
    *,
    kind: str,
    message_id: int | None,
) -> None:
    """Store what a person wrote in an open community's topic, with their role there."""
    if message.from_user is None or message.from_user.is_bot:
        return
    community = await _community(message, session)
    if community is None or community.state != CommunityState.OPEN:
        return
    author_role = await role_of(
        session=session, community=community, user_id=message.from_user.id, staff_role=role
    )
    await record_message(
        session=session,
        community=community,
        message_id=message_id,
        author_id=message.from_user.id,
        author_name=message.from_user.full_name,
        author_role=author_role,
        kind=kind,
        text=message.text or message.caption,
        now=clock.now(),
    )


async def check_hub_rights(bot: Bot, settings: Settings) -> None:
    """At start-up, say which rights the bot lacks in the experts' hub."""
    if settings.experts_hub_id is None:
        log.warning("experts' hub is not configured (JIKIMI_EXPERTS_HUB_ID): no communities")
        return
    missing = await hub_of(bot).missing_rights(chat_id=settings.experts_hub_id)
    if not missing:
        log.info(
            "experts' hub %s: every right the communities need is granted", settings.experts_hub_id
        )
        return
    log.warning("experts' hub %s: the bot lacks %s", settings.experts_hub_id, ", ".join(missing))
    if settings.staff_chat_id is not None:
        try:
            await bot.send_message(
                chat_id=settings.staff_chat_id,
                text=render(
                    settings.default_language, "community_hub_rights_missing", missing=missing
                ),
            )
        except Exception:  # a start-up notice must never stop the bot
            log.exception("could not tell the staff chat about the hub's missing rights")


async def start_sweeper(
    bot: Bot, settings: Settings, dispatcher: Dispatcher, clock: Clock | None = None
) -> None:
    """Start the quiet-period sweep (it runs only in the worker leading the scheduler)."""
    sweeper = CommunitySweeper(
        bot=bot,
        settings=settings,
        clock=clock or Clock(),
        scheduler=lambda: dispatcher.workflow_data.get("scheduler_service"),
    )
    dispatcher.workflow_data[SWEEPER_KEY] = sweeper
    await sweeper.start()


async def stop_sweeper(dispatcher: Dispatcher) -> None:
    """Stop the quiet-period sweep."""
    sweeper = dispatcher.workflow_data.pop(SWEEPER_KEY, None)
    if isinstance(sweeper, CommunitySweeper):
        await sweeper.stop()


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.chat_join_request.register(join_request, in_hub)
    router.chat_member.register(member_update, in_hub)
    # Commands come in text and from staff only: a photo captioned "/mute", or an expert's
    # "/close", goes to the transcript.
    router.message.register(
        hub_command, in_hub, F.text, Command(*HUB_COMMANDS), F.message_thread_id, staff_speaks
    )
    router.message.register(transcript, in_hub, F.message_thread_id)
    router.edited_message.register(transcript_edit, in_hub, F.message_thread_id)
    router.startup.register(check_hub_rights)
    router.startup.register(start_sweeper)
    router.shutdown.register(stop_sweeper)
    return router
