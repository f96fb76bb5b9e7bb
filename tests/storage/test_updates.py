"""A redelivered update is recognised and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.base import utcnow
from storage.models.updates import ProcessedUpdate
from storage.updates import claim_update, purge_processed


async def test_second_claim_of_an_update_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The first claim wins, a redelivery (same bot, same id) is refused."""
    async with session_factory() as session, session.begin():
        assert await claim_update(session=session, bot_id=1, update_id=100)
    async with session_factory() as session, session.begin():
        assert not await claim_update(session=session, bot_id=1, update_id=100)
        assert await claim_update(session=session, bot_id=2, update_id=100)
        assert await claim_update(session=session, bot_id=1, update_id=101)


async def test_rolled_back_claim_can_be_processed_again(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """A claim belongs to its transaction: if the update's handling rolls back, it is not kept."""
    async with session_factory() as session:
        assert await claim_update(session=session, bot_id=1, update_id=5)
        await session.rollback()
    async with session_factory() as session, session.begin():
        assert await claim_update(session=session, bot_id=1, update_id=5)


async def test_purge_forgets_old_updates(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Old processed ids are purged, recent ones kept."""
    now = utcnow()
    async with session_factory() as session, session.begin():
        session.add(ProcessedUpdate(bot_id=1, update_id=1, processed_at=now - timedelta(days=3)))
        session.add(ProcessedUpdate(bot_id=1, update_id=2, processed_at=now))
    async with session_factory() as session, session.begin():
        removed = await purge_processed(session=session, before=now - timedelta(days=1))
    assert removed == 1
    async with session_factory() as session:
        count = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    assert count == 1
