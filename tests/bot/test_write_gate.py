"""write_gate: SQLite writers in this process take turns; on other databases it does nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.middlewares.database import write_gate
from storage.engine import create_engine, create_session_factory
from storage.models.chats import ChatState

Factory = async_sessionmaker[AsyncSession]
PATIENCE = 20.0  # seconds: generous, the machine is shared


def _no_busy_wait(dbapi_connection: Any, _record: object) -> None:
    # Fail at once instead of sleeping in SQLite's busy handler: only the gate can make
    # writers take turns now.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
    finally:
        cursor.close()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite engine (whatever database the suite runs on) with a table and no busy wait."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    event.listen(engine.sync_engine, "connect", _no_busy_wait)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (label TEXT NOT NULL)"))
    try:
        yield engine
    finally:
        await engine.dispose()


async def insert(session: AsyncSession, label: str) -> None:
    connection = await session.connection()
    await connection.execute(text("INSERT INTO note (label) VALUES (:label)"), {"label": label})


async def count_notes(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM note"))).scalar_one())


async def test_sqlite_writers_take_turns(sqlite_engine: AsyncEngine) -> None:
    """Concurrent write transactions behind the gate run one at a time, and all commit."""
    factory = create_session_factory(sqlite_engine)
    inside: list[str] = []
    peak = 0
    entered: list[str] = []

    async def writer(label: str) -> None:
        nonlocal peak
        async with write_gate(factory), factory() as session, session.begin():
            entered.append(label)
            inside.append(label)
            peak = max(peak, len(inside))
            await insert(session, f"{label}-1")
            await asyncio.sleep(0.02)  # other writers get the loop meanwhile
            await insert(session, f"{label}-2")
            inside.remove(label)

    labels = [f"w{index}" for index in range(5)]
    await asyncio.wait_for(asyncio.gather(*(writer(label) for label in labels)), PATIENCE)
    assert peak == 1
    assert entered == labels
    assert await count_notes(sqlite_engine) == 10


async def test_sqlite_writers_without_the_gate_collide(sqlite_engine: AsyncEngine) -> None:
    """The same two transactions without the gate: the second finds the database locked."""
    factory = create_session_factory(sqlite_engine)
    holding = asyncio.Event()
    done = asyncio.Event()

    async def first() -> None:
        async with factory() as session, session.begin():
            await insert(session, "first")
            holding.set()
            await asyncio.wait_for(done.wait(), PATIENCE)

    async def second() -> None:
        await asyncio.wait_for(holding.wait(), PATIENCE)
        try:
            async with factory() as session, session.begin():
                await insert(session, "second")
        finally:
            done.set()

    results = await asyncio.gather(first(), second(), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], OperationalError)
    assert "database is locked" in str(results[1])
    assert await count_notes(sqlite_engine) == 1


async def test_sqlite_gate_lets_waiters_in_by_arrival(sqlite_engine: AsyncEngine) -> None:
    """Writers waiting for the gate get it in the order they arrived."""
    factory = create_session_factory(sqlite_engine)
    release = asyncio.Event()
    order: list[int] = []

    async def holder() -> None:
        async with write_gate(factory):
            await release.wait()

    async def waiter(index: int) -> None:
        async with write_gate(factory):
            order.append(index)

    tasks = [asyncio.create_task(holder())]
    await asyncio.sleep(0)
    for index in range(5):
        tasks.append(asyncio.create_task(waiter(index)))
        await asyncio.sleep(0)  # this one is queued before the next arrives
    assert order == []
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
    assert order == [0, 1, 2, 3, 4]


async def test_each_sqlite_database_has_its_own_gate(tmp_path: Path) -> None:
    """Holding one database's gate does not hold back writers to another database."""
    engines = [create_engine(f"sqlite+aiosqlite:///{tmp_path / f'{n}.db'}") for n in "ab"]
    first, second = (create_session_factory(engine) for engine in engines)
    try:
        async with write_gate(first):
            async with asyncio.timeout(PATIENCE), write_gate(second):
                pass
            # A second factory on the same engine shares the gate.
            same = create_session_factory(engines[0])
            blocked = asyncio.create_task(_enter(same))
            await asyncio.sleep(0.05)
            assert not blocked.done()
        await asyncio.wait_for(blocked, PATIENCE)
    finally:
        for engine in engines:
            await engine.dispose()


async def _enter(factory: Factory) -> None:
    async with write_gate(factory):
        pass


def test_sqlite_gate_works_on_a_new_event_loop(tmp_path: Path) -> None:
    """An engine used again from a new event loop gets a gate of that loop."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'loops.db'}")
    factory = create_session_factory(engine)

    async def write(label: str) -> None:
        try:
            async with write_gate(factory), factory() as session, session.begin():
                if label == "first":
                    connection = await session.connection()
                    await connection.execute(text("CREATE TABLE note (label TEXT)"))
                await insert(session, label)
        finally:
            await engine.dispose()

    asyncio.run(write("first"))
    asyncio.run(write("second"))

    async def count() -> int:
        try:
            return await count_notes(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == 2


async def test_no_gate_on_postgresql() -> None:
    """On PostgreSQL (or without a bound engine) every writer passes at once."""
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test")  # never connects
    unbound: Factory = async_sessionmaker(class_=AsyncSession)
    try:
        for factory in (create_session_factory(engine), unbound):
            both_inside = asyncio.Event()
            inside = 0

            async def writer(
                factory: Factory = factory, event: asyncio.Event = both_inside
            ) -> None:
                nonlocal inside
                async with write_gate(factory):
                    inside += 1
                    if inside == 2:
                        event.set()
                    await event.wait()

            await asyncio.wait_for(asyncio.gather(writer(), writer()), PATIENCE)
    finally:
        await engine.dispose()


async def test_gated_writers_all_commit_on_the_suite_database(session_factory: Factory) -> None:
    """Many concurrent gated transactions on the configured database all commit."""

    async def writer(chat_id: int) -> None:
        async with write_gate(session_factory), session_factory() as session, session.begin():
            session.add(ChatState(chat_id=chat_id))
            await session.flush()
            await asyncio.sleep(0.01)
            state = await session.get(ChatState, chat_id)
            assert state is not None
            state.reason = "checked"

    await asyncio.wait_for(asyncio.gather(*(writer(chat) for chat in range(1, 9))), PATIENCE)
    async with session_factory() as session:
        total = (await session.exec(select(func.count()).select_from(ChatState))).one()
    assert total == 8
