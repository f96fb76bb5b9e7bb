"""Whether the bot can write to a person: Telegram tells when they block or unblock it.

Usage (a handler of ``my_chat_member`` in a private chat)::

    await bot_blocked(session=session, chat_id=user_id, now=now)
    await bot_unblocked(session=session, chat_id=user_id)

A 403 to a send marks the chat as well (the sender does); unblocking clears either mark, so
nobody stays unreachable once they can be written to again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.chats import mark_reachable, mark_unreachable

BLOCKED = "bot was blocked by the user"


async def bot_blocked(*, session: AsyncSession, chat_id: int, now: datetime) -> None:
    """Record that the person in this private chat blocked the bot."""
    await mark_unreachable(session=session, chat_id=chat_id, reason=BLOCKED, now=now)


async def bot_unblocked(*, session: AsyncSession, chat_id: int) -> None:
    """Record that the person in this private chat can be written to again."""
    await mark_reachable(session=session, chat_id=chat_id)
