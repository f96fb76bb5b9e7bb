"""Community controls in the staff supergroup: the card's button, the panel, topic commands.

Commands in the incident topic where the community was opened: /community, /invite ID,
/exclude ID, /mute ID, /unmute ID, /remove ID, /del MSG, /pin MSG, /readonly on|off,
/decision TEXT, /closecommunity (``/close`` stays the incident's).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from community.access import is_staff
from community.callbacks import (
    PREFIX,
    CallbackError,
    CloseCommunity,
    OpenCommunity,
    SendInvitations,
    ToggleField,
    action_of,
)
from community.errors import CommunityError
from community.hub_work import HubWork
from community.invitations import invite_one, send_invitations
from community.lifecycle import exclude_expert, open_community, panel, toggle_field
from community.lookup import (
    community_by_id,
    community_of_staff_topic,
    expert_to_invite,
    require_topic,
)
from community.outgoing import edit_text, send_text
from community.relay import citizen_to_community
from handlers.common.answers import answer
from handlers.experts.common import community_config, first_int, hub_of
from handlers.experts.moderating import close_by_staff, moderate
from situation.clock import Clock
from situation.texts import render
from storage.models.communities import Community
from storage.models.staff import StaffMember

CALLBACKS = (OpenCommunity, ToggleField, SendInvitations, CloseCommunity)


def _from_staff_chat(query: CallbackQuery, settings: Settings) -> bool:
    message = query.message
    return message is not None and message.chat.id == settings.staff_chat_id


def _thread_of(query: CallbackQuery) -> int | None:
    message = query.message
    return message.message_thread_id if isinstance(message, Message) else None


def in_staff_chat(message: Message, settings: Settings) -> bool:
    """Whether the message was written in the staff supergroup."""
    return settings.staff_chat_id is not None and message.chat.id == settings.staff_chat_id


async def _refresh_panel(
    query: CallbackQuery, session: Any, community: Community, lang: str
) -> None:
    if query.message is None:
        return
    text, buttons = await panel(session=session, community=community, lang=lang)
    await edit_text(
        session=session,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        text=text,
        buttons=buttons,
    )


async def button(
    query: CallbackQuery,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    lang: str,
    role: str | None,
    staff_member: StaffMember | None,
    hub_work: HubWork | None = None,
) -> None:
    """Open a community from the incident card, toggle its fields, send invitations, close it."""
    if _from_staff_chat(query, settings) and staff_member is not None:
        lang = settings.default_language  # anyone else reads their own language
    if staff_member is None or not _from_staff_chat(query, settings) or not is_staff(role):
        await answer(query, render(lang, "community_error_staff_only"), show_alert=True)
        return
    if settings.experts_hub_id is None:
        await answer(query, render(lang, "community_hub_missing"), show_alert=True)
        return
    data = query.data or ""
    hub = hub_of(bot)
    config = community_config(settings)
    try:
        action = action_of(data)
        if action == OpenCommunity.ACTION:
            opened = await open_community(
                session=session,
                hub=hub,
                incident_id=OpenCommunity.unpack(data).incident_id,
                actor_id=staff_member.telegram_user_id,
                actor_name=staff_member.name,
                role=role,
                hub_chat_id=settings.experts_hub_id,
                staff_chat_id=settings.staff_chat_id,
                staff_thread_id=_thread_of(query),
                now=clock.now(),
                lang=lang,
                tz=settings.timezone,
                work=hub_work,
            )
            name = (
                "community_opened"
                if opened.created or opened.reopened
                else "community_already_open"
            )
            await answer(query, render(lang, name, community=opened.community))
            return
        community_id = (
            ToggleField.unpack(data).community_id
            if action == ToggleField.ACTION
            else SendInvitations.unpack(data).community_id
            if action == SendInvitations.ACTION
            else CloseCommunity.unpack(data).community_id
        )
        community = await community_by_id(session=session, community_id=community_id)
        if action == ToggleField.ACTION:
            await toggle_field(
                session=session, community=community, field=ToggleField.unpack(data).field
            )
        elif action == SendInvitations.ACTION:
            chosen = await send_invitations(
                session=session,
                community=community,
                now=clock.now(),
                lang=lang,
                tz=settings.timezone,
                link_ttl=config.invite_link_ttl,
            )
            if hub_work is not None:
                hub_work.invite_after_commit(session, hub=hub, chosen=chosen)
        else:
            await close_by_staff(
                session=session,
                hub=hub,
                community=community,
                staff_member=staff_member,
                now=clock.now(),
                settings=settings,
                work=hub_work,
            )
        await _refresh_panel(query, session, community, lang)
        await answer(query, render(lang, "community_done"))
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
    except CommunityError as error:
        await answer(query, render(lang, error.code, **error.context), show_alert=True)


async def _staff_community(message: Message, session: Any, settings: Settings) -> Community | None:
    return await community_of_staff_topic(
        session=session, staff_chat_id=settings.staff_chat_id, thread_id=message.message_thread_id
    )


async def _answer(session: Any, message: Message, text: str) -> None:
    await send_text(
        session=session, chat_id=message.chat.id, thread_id=message.message_thread_id, text=text
    )


async def command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    role: str | None,
    staff_member: StaffMember | None,
    hub_work: HubWork | None = None,
) -> None:
    """Moderate the topic's community from the staff topic."""
    lang = settings.default_language
    if staff_member is None or not is_staff(role):
        return
    community = await _staff_community(message, session, settings)
    if community is None:
        await _answer(session, message, render(lang, "community_error_no_community"))
        return
    try:
        args = command.args
        if command.command.lower() == "tocommunity" and not (args or "").strip():
            reply = message.reply_to_message
            if reply is not None and reply.message_id != message.message_thread_id:
                args = reply.text or reply.caption
        done = await _run(
            command.command.lower(),
            args,
            bot,
            session,
            settings,
            clock,
            community,
            staff_member,
            hub_work,
        )
    except CommunityError as error:
        await _answer(session, message, render(lang, error.code, **error.context))
        return
    if done is not None:
        await _answer(session, message, done)


async def _run(
    name: str,
    args: str | None,
    bot: Bot,
    session: Any,
    settings: Settings,
    clock: Clock,
    community: Community,
    staff_member: StaffMember,
    hub_work: HubWork | None,
) -> str | None:
    lang = settings.default_language
    hub = hub_of(bot)
    now = clock.now()
    number = first_int(args)
    if name == "community":
        text, _ = await panel(session=session, community=community, lang=lang)
        return text + "\n\n" + render(lang, "community_usage")
    if name != "closecommunity":
        require_topic(community)  # nothing reaches a hub topic that is not made yet
    if name in ("invite", "exclude"):
        if number is None:
            raise CommunityError("community_error_no_target")
        if name == "exclude":
            expert = await exclude_expert(session=session, community=community, expert_id=number)
            return render(lang, "community_excluded_one", expert=expert)
        expert = await expert_to_invite(session=session, expert_id=number)
        chosen = await invite_one(
            session=session,
            community=community,
            expert=expert,
            now=now,
            lang=lang,
            tz=settings.timezone,
            link_ttl=community_config(settings).invite_link_ttl,
        )
        if hub_work is not None:  # "invited" (or Telegram's refusal) follows the hub's answer
            hub_work.invite_after_commit(session, hub=hub, chosen=chosen)
        return None
    if name == "tocommunity":
        await citizen_to_community(
            session=session, community=community, text=args or "", now=now, lang=lang
        )
        return render(lang, "community_done")
    if name == "closecommunity":
        await close_by_staff(
            session=session,
            hub=hub,
            community=community,
            staff_member=staff_member,
            now=now,
            settings=settings,
            work=hub_work,
        )
        return None
    # The target is the number after the command: a user id, or a message id in the hub topic.
    done = await moderate(
        name,
        args=args,
        user=(number, "") if number is not None else None,
        message_id=number,
        session=session,
        hub=hub,
        community=community,
        staff_member=staff_member,
        now=now,
        lang=lang,
        work=hub_work,
        message_by_id=True,
    )
    return render(lang, "community_done") if done == "done" else None


STAFF_COMMANDS = (
    "community",
    "invite",
    "exclude",
    "mute",
    "unmute",
    "remove",
    "del",
    "pin",
    "readonly",
    "decision",
    "tocommunity",
    "closecommunity",
)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(
        button,
        F.data.regexp(rf"^{PREFIX}:({'|'.join(c.ACTION for c in CALLBACKS)}):"),
    )
    # Commands come in text only (a captioned photo in the topic is relayed to the citizen).
    router.message.register(
        command, F.text, Command(*STAFF_COMMANDS), in_staff_chat, F.message_thread_id
    )
    return router
