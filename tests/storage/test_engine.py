"""The engine configures SQLite and round-trips aware datetimes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import (
    application_name,
    create_engine,
    create_session_factory,
    split_search_path,
)
from storage.models.chats import ChatState


async def test_sqlite_pragmas_and_parent_directory(tmp_path: Path) -> None:
    """A SQLite engine creates the file's directory and turns on WAL, foreign keys, busy timeout."""
    path = tmp_path / "a" / "b" / "jikimi.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert path.parent.is_dir()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy > 0


async def test_the_pool_keeps_as_many_connections_as_it_is_given(database_url: str) -> None:
    """Connections up to ``pool_size`` are reused: a second round at that concurrency opens none."""
    engine = create_engine(database_url, pool_size=12)
    opened = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))

    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)

    try:
        await asyncio.gather(*(hold() for _ in range(12)))
        first_round = len(opened)
        await asyncio.gather(*(hold() for _ in range(12)))
    finally:
        await engine.dispose()
    assert first_round == 12
    assert len(opened) == 12


def test_search_path_is_split_from_postgres_urls() -> None:
    """``?search_path=`` is taken out of the URL and handed to the connection instead."""
    url, schema = split_search_path("postgresql+asyncpg://u@h:5432/db?search_path=t_1")
    assert schema == "t_1"
    assert url.query == {}
    assert url.database == "db"


def test_unsupported_url_is_refused() -> None:
    """Only SQLite and PostgreSQL are supported."""
    with pytest.raises(ValueError, match="unsupported"):
        create_engine("mysql+aiomysql://u@h/db")


async def test_datetimes_come_back_aware_utc(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """A datetime in any zone is stored as UTC and read back timezone-aware."""
    seoul = timezone(timedelta(hours=9))
    moment = datetime(2026, 7, 1, 9, 30, tzinfo=seoul)
    async with session_factory() as session:
        session.add(ChatState(chat_id=7, unreachable=True, reason="test", since=moment))
        await session.commit()
    async with create_session_factory(engine)() as session:
        state = await session.get(ChatState, 7)
        assert state is not None and state.since is not None
        assert state.since == moment
        assert state.since.tzinfo is not None
        assert state.since.utcoffset() == timedelta(0)
        assert state.since == datetime(2026, 7, 1, 0, 30, tzinfo=UTC)


async def test_naive_datetimes_are_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Binding a naive datetime is an error, not a silent guess."""
    from sqlalchemy.exc import StatementError

    async with session_factory() as session:
        session.add(ChatState(chat_id=8, since=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            await session.flush()


@pytest.mark.postgres
async def test_postgres_connections_name_the_application_and_schema(postgres_url: str) -> None:
    """pg_stat_activity shows jikimi's connections, and in the suite the schema they use."""
    _url, schema = split_search_path(postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            name = await conn.scalar(text("SELECT current_setting('application_name')"))
            path = await conn.scalar(text("SELECT current_setting('search_path')"))
    finally:
        await engine.dispose()
    assert name == application_name(schema) == f"jikimi/{schema}"
    assert path == schema


async def test_a_failed_statement_does_not_show_its_parameters(database_url: str) -> None:
    """What citizens wrote stays out of error messages, which are logged with tracebacks."""
    engine = create_engine(database_url)
    words = "우리집 2층에서 불이 났어요 010-4321-8765"
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as failure:
                await conn.execute(
                    text("INSERT INTO no_such_table (words) VALUES (:words)"), {"words": words}
                )
    finally:
        await engine.dispose()
    assert words not in str(failure.value)
    assert "no_such_table" in str(failure.value)
