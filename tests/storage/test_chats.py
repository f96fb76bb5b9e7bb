"""Chat reachability is recorded, queried and cleared."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.chats import get_chat_state, is_unreachable, mark_reachable, mark_unreachable
from storage.models.base import utcnow


async def test_unreachable_then_reachable(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Marking keeps the first time and the latest reason; clearing makes it reachable."""
    first = utcnow()
    async with session_factory() as session, session.begin():
        assert not await is_unreachable(session=session, chat_id=42)
        await mark_unreachable(session=session, chat_id=42, reason="blocked", now=first)
        await mark_unreachable(
            session=session, chat_id=42, reason="deactivated", now=first + timedelta(hours=1)
        )
    async with session_factory() as session, session.begin():
        assert await is_unreachable(session=session, chat_id=42)
        state = await get_chat_state(session=session, chat_id=42)
        assert state is not None
        assert (state.reason, state.since) == ("deactivated", first)
        await mark_reachable(session=session, chat_id=42)
    async with session_factory() as session:
        assert not await is_unreachable(session=session, chat_id=42)
        await mark_reachable(session=session, chat_id=43)  # unknown chat: nothing to do
        assert await get_chat_state(session=session, chat_id=43) is None
