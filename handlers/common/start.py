"""/start in private from a staff member or a registered expert: an answer for their role.

A citizen's /start (anyone else, or words after /start: a report) passes on to the citizens'
commands.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from community.registry import greet_expert
from situation.roles import greet_staff


async def staff_start(message: Message, session: Any, lang: str, role: str) -> None:
    """Tell a staff member where the work is (the staff room) and the staff commands."""
    await greet_staff(session=session, chat_id=message.chat.id, role=role, lang=lang)


async def expert_start(message: Message, session: Any, lang: str) -> None:
    """Tell a registered expert their registration status and how the hub works."""
    assert message.from_user is not None
    greeted = await greet_expert(
        session=session,
        telegram_user_id=message.from_user.id,
        chat_id=message.chat.id,
        lang=lang,
    )
    if not greeted:
        raise SkipHandler  # a citizen: the citizens' /start answers


def bare(_: Message, command: CommandObject) -> bool:
    """Whether /start came alone (words after it are a citizen's report)."""
    return not (command.args or "").strip()


def on_staff(_: Message, role: str | None = None) -> bool:
    """Whether the sender has a situation-room role."""
    return role is not None


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private", F.text, F.from_user)
    router.message.register(staff_start, Command("start"), bare, on_staff)
    router.message.register(expert_start, Command("start"), bare)
    return router
