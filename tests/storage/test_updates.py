"""A redelivered update is recognised and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.citizens import find_citizen, get_or_create_citizen
from storage.models.base import utcnow
from storage.models.updates import ProcessedUpdate
from storage.staff import deactivate_staff, upsert_staff
from storage.updates import claim_update, claim_update_from, purge_processed


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL statements the engine sends while the block runs (SQLite's BEGIN aside)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):
            sent.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


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


async def test_claim_reads_the_senders_citizen_and_staff_rows_along(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """The claim comes with the sender's rows; find_citizen then asks the database nothing."""
    now = utcnow()
    async with session_factory() as session, session.begin():
        await get_or_create_citizen(session=session, telegram_user_id=501, now=now)
        await upsert_staff(session=session, telegram_user_id=501, name="Kim", role="staff", now=now)
    async with session_factory() as session, session.begin():
        with statements(engine) as sent:
            claimed = await claim_update_from(
                session=session, bot_id=1, update_id=7, telegram_user_id=501
            )
            citizen = await find_citizen(session=session, telegram_user_id=501)
        assert claimed.fresh
        assert claimed.citizen is not None and claimed.citizen.telegram_user_id == 501
        assert citizen is claimed.citizen
        assert claimed.staff is not None and claimed.staff.name == "Kim"
        # One statement on PostgreSQL (the claim in a CTE), the claim and the read on SQLite.
        expected = 1 if engine.dialect.name == "postgresql" else 2
        assert len(sent) == expected
    async with session_factory() as session, session.begin():
        again = await claim_update_from(
            session=session, bot_id=1, update_id=7, telegram_user_id=501
        )
    assert not again.fresh
    assert again.citizen is not None and again.staff is not None


async def test_claim_of_a_stranger_finds_no_rows_and_remembers_that(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """A first-time writer has no citizen row (asked once) and an inactive member no staff row."""
    now = utcnow()
    async with session_factory() as session, session.begin():
        await upsert_staff(session=session, telegram_user_id=602, name="Lee", role="lead", now=now)
        await deactivate_staff(session=session, telegram_user_id=602, now=now)
    async with session_factory() as session, session.begin():
        claimed = await claim_update_from(
            session=session, bot_id=1, update_id=8, telegram_user_id=602
        )
        with statements(engine) as sent:
            assert await find_citizen(session=session, telegram_user_id=602) is None
        assert sent == []
    assert claimed.fresh
    assert claimed.citizen is None and claimed.staff is None
