"""Staff messages in an incident topic reach its citizens (``!`` lines stay internal)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from handlers.staff.filters import actor_of, in_staff_chat
from situation.clock import Clock
from situation.relay import StaffMessage, relay_staff_edit, relay_staff_message
from situation.staffroom import RoomConfig
from storage.models.staff import StaffMember

# The kinds of content a person can post, first match wins (an animation also has a document,
# a venue a location). Which of them reach citizens is the relay's decision; a message with
# none of them (a topic edited, a member joined, ...) is "other" and ignored.
KINDS = (
    "text",
    "photo",
    "location",
    "venue",
    "animation",
    "document",
    "video",
    "voice",
    "audio",
    "video_note",
    "sticker",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
    "invoice",
    "giveaway",
    "checklist",
)


def kind_of(message: Message) -> str:
    """Name the kind of content of a staff message ("other": no content, a service message)."""
    for kind in KINDS:
        if getattr(message, kind, None):
            return kind
    return "other"


def staff_message(
    message: Message, member: StaffMember, *, text: str | None = None, lang: str | None = None
) -> StaffMessage:
    """Describe an aiogram message for the relay (``lang``: the writer's, for answers)."""
    reply = message.reply_to_message
    reply_id = None
    if reply is not None and reply.message_id != message.message_thread_id:
        reply_id = reply.message_id
    return StaffMessage(
        chat_id=message.chat.id,
        thread_id=message.message_thread_id or 0,
        message_id=message.message_id,
        kind=kind_of(message),
        actor=actor_of(member),
        text=text if text is not None else (message.text or message.caption),
        reply_to_message_id=reply_id,
        lang=lang,
    )


async def relay_to_citizens(
    message: Message,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
    lang: str,
) -> None:
    """Relay a staff member's message to the incident's citizens."""
    if staff_member is None or message.from_user is None or message.from_user.is_bot:
        return
    if kind_of(message) == "other":
        return
    await relay_staff_message(
        session=session,
        room=room,
        message=staff_message(message, staff_member, lang=lang),
        now=clock.now(),
    )


async def relay_edit(
    message: Message,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    staff_member: StaffMember | None,
    lang: str,
    command: CommandObject | None = None,
) -> None:
    """Send the corrected words of a staff message (or ``/all``) to the citizens who had it."""
    if staff_member is None or message.from_user is None or message.from_user.is_bot:
        return
    text = command.args or "" if command is not None else None
    await relay_staff_edit(
        session=session,
        room=room,
        message=staff_message(message, staff_member, text=text, lang=lang),
        now=clock.now(),
    )


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(in_staff_chat, F.is_topic_message, F.message_thread_id)
    router.message.register(relay_to_citizens, ~F.text.startswith("/"))
    router.edited_message.filter(in_staff_chat, F.is_topic_message, F.message_thread_id)
    router.edited_message.register(relay_edit, Command("all"))
    router.edited_message.register(relay_edit, ~F.text.startswith("/"))
    return router
