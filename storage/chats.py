"""Chat reachability: set when Telegram answers 403 (blocked, kicked, deactivated).

Usage::

    await mark_unreachable(session=session, chat_id=user_id, reason="bot was blocked", now=now)
    if await is_unreachable(session=session, chat_id=user_id): ...
    await mark_reachable(session=session, chat_id=user_id)  # e.g. the user pressed /start again
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.base import utcnow
from storage.models.chats import ChatState


async def mark_unreachable(
    *, session: AsyncSession, chat_id: int, reason: str, now: datetime | None = None
) -> ChatState:
    """Record that the bot cannot reach the chat any more, and why."""
    state = await session.get(ChatState, chat_id)
    if state is None:
        state = ChatState(chat_id=chat_id)
        session.add(state)
    if not state.unreachable:
        state.since = now or utcnow()
    state.unreachable = True
    state.reason = reason
    await session.flush()
    return state


async def mark_reachable(*, session: AsyncSession, chat_id: int) -> None:
    """Record that the chat can be reached again."""
    state = await session.get(ChatState, chat_id)
    if state is not None and state.unreachable:
        state.unreachable = False
        state.reason = None
        state.since = None
        await session.flush()


async def forget_chat(*, session: AsyncSession, chat_id: int) -> None:
    """Delete what is recorded about reaching this chat (its person asked to be forgotten)."""
    state = await session.get(ChatState, chat_id)
    if state is not None:
        await session.delete(state)
        await session.flush()


async def is_unreachable(*, session: AsyncSession, chat_id: int) -> bool:
    """Whether the last delivery to the chat was refused with 403."""
    state = await session.get(ChatState, chat_id)
    return bool(state and state.unreachable)


async def get_chat_state(*, session: AsyncSession, chat_id: int) -> ChatState | None:
    """Return the chat's recorded state, if any."""
    return await session.get(ChatState, chat_id)
