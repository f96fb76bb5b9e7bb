"""A command in the staff supergroup that nothing handled: say so instead of staying silent."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import Message

from handlers.experts.staff import STAFF_COMMANDS as COMMUNITY_COMMANDS
from handlers.staff.filters import in_staff_chat
from situation.staffroom import RoomConfig, post
from situation.texts import render
from storage.models.staff import StaffMember


async def unknown_command(
    message: Message, bot: Bot, session: Any, room: RoomConfig, staff_member: StaffMember | None
) -> None:
    """Tell staff that a command (a typo such as /clsoe) is unknown and where the list is.

    A community command typed outside a topic is known, only misplaced: it says where it works.
    """
    if staff_member is None:
        return
    command = (message.text or "").split(maxsplit=1)[0]
    name, _, mention = command[1:].partition("@")
    if mention and mention.casefold() != ((await bot.me()).username or "").casefold():
        return  # addressed to another bot in the group
    # The community's commands take a topic; in one, only a different spelling (/Invite)
    # gets this far, and that is unknown.
    if name in COMMUNITY_COMMANDS and message.message_thread_id is None:
        text = render(room.lang, "staff_answer", key="not_in_topic")
    else:
        text = render(room.lang, "staff_unknown_command", command=command)
    await post(session=session, room=room, text=text, thread_id=message.message_thread_id)


def get_router() -> Router:
    """Build this module's router: it must come after every router that takes commands."""
    router = Router(name=__name__)
    router.message.register(unknown_command, in_staff_chat, F.text.startswith("/"))
    return router
