"""hold_lock: a named lock held until the transaction ends (PostgreSQL); nothing on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import create_engine, create_session_factory
from storage.locks import hold_lock

Factory = async_sessionmaker[AsyncSession]
PATIENCE = 20.0  # seconds a waiter may take once the lock is free (generous: shared machine)
STILL_WAITING = 0.5  # how long a blocked waiter is watched before the holder lets go


@pytest.fixture
async def pg_factory(postgres_url: str) -> AsyncIterator[Factory]:
    """A session factory on an empty PostgreSQL schema (advisory locks need no tables)."""
    engine = create_engine(postgres_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def take(factory: Factory, name: str, log: list[str], label: str) -> None:
    """Open a transaction, wait for the lock, note it, and commit."""
    async with factory() as session, session.begin():
        await hold_lock(session=session, name=name)
        log.append(label)


@pytest.mark.postgres
async def test_second_holder_waits_until_the_first_commits(pg_factory: Factory) -> None:
    """A transaction asking for a held name blocks until the holder's transaction commits."""
    log: list[str] = []
    async with pg_factory() as first:
        await first.begin()
        await hold_lock(session=first, name="staff-room")
        waiter = asyncio.create_task(take(pg_factory, "staff-room", log, "second got it"))
        await asyncio.sleep(STILL_WAITING)
        assert not waiter.done()
        log.append("first committed")
        await first.commit()
        await asyncio.wait_for(waiter, PATIENCE)
    assert log == ["first committed", "second got it"]


@pytest.mark.postgres
async def test_a_rollback_releases_the_lock_too(pg_factory: Factory) -> None:
    """The lock ends with the transaction, whichever way it ends, not with the session."""
    log: list[str] = []
    async with pg_factory() as first:
        await first.begin()
        await hold_lock(session=first, name="handover")
        await hold_lock(session=first, name="handover")  # the holder may ask again
        waiter = asyncio.create_task(take(pg_factory, "handover", log, "second got it"))
        await asyncio.sleep(STILL_WAITING)
        assert not waiter.done()
        log.append("first rolled back")
        await first.rollback()
        await asyncio.wait_for(waiter, PATIENCE)
        # The session lives on, its next transaction can take the lock again.
        async with first.begin():
            await asyncio.wait_for(hold_lock(session=first, name="handover"), PATIENCE)
    assert log == ["first rolled back", "second got it"]


@pytest.mark.postgres
async def test_other_names_do_not_wait(pg_factory: Factory) -> None:
    """Holding one name does not block a transaction asking for another."""
    log: list[str] = []
    async with pg_factory() as first, first.begin():
        await hold_lock(session=first, name="one")
        await asyncio.wait_for(take(pg_factory, "two", log, "other name"), PATIENCE)
    assert log == ["other name"]


async def test_sqlite_needs_no_lock(tmp_path: Path) -> None:
    """On SQLite hold_lock sends nothing, so two open transactions both pass at once."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}")
    factory = create_session_factory(engine)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with factory() as first, factory() as second:
            await hold_lock(session=first, name="staff-room")
            await asyncio.wait_for(hold_lock(session=second, name="staff-room"), PATIENCE)
        assert seen == []
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        await engine.dispose()
