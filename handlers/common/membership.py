"""A person blocks or unblocks the bot in their private chat (Telegram's my_chat_member)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from situation.clock import Clock
from situation.reachability import bot_blocked, bot_unblocked


async def blocked(event: ChatMemberUpdated, session: Any, clock: Clock) -> None:
    """Remember that the bot cannot write to this person any more."""
    await bot_blocked(session=session, chat_id=event.chat.id, now=clock.now())


async def unblocked(event: ChatMemberUpdated, session: Any) -> None:
    """Remember that the bot can write to this person again."""
    await bot_unblocked(session=session, chat_id=event.chat.id)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.my_chat_member.filter(F.chat.type == "private")
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
