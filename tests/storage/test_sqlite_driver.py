"""The SQLite adapter runs each statement in one trip to aiosqlite's thread, and loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.engine import create_engine

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite engine as jikimi makes it, with the ``notes`` table."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the functions sent to aiosqlite's thread while the test runs."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield sent


async def test_each_statement_is_one_trip_with_its_rows_count_and_ids(
    engine: AsyncEngine, trips: list[str]
) -> None:
    """Rows, RETURNING, row counts and last row ids come back from a single trip each."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # BEGIN IMMEDIATE and a first statement
        trips.clear()
        plain = await conn.execute(insert(notes).values(body="smoke on the 3rd floor"))
        returned = await conn.execute(
            insert(notes).values(body="water rising").returning(notes.c.id)
        )
        changed = await conn.execute(
            update(notes).where(notes.c.body.like("%floor")).values(body="fire on the 3rd floor")
        )
        rows = (await conn.execute(select(notes.c.id, notes.c.body).order_by(notes.c.id))).all()
        assert trips == ["run_statement"] * 4
        await conn.commit()

    assert plain.inserted_primary_key == (1,)
    assert returned.scalar_one() == 2
    assert changed.rowcount == 1
    assert [tuple(row) for row in rows] == [(1, "fire on the 3rd floor"), (2, "water rising")]
    assert list(rows[0]._mapping) == ["id", "body"]


async def test_many_parameter_sets_are_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    """An executemany (Core insert of several rows without RETURNING) is one trip too."""
    async with engine.begin() as conn:
        trips.clear()
        result = await conn.execute(insert(notes), [{"body": f"note {n}"} for n in range(5)])
        assert trips == ["run_statement_many"]
        assert result.rowcount == 5
        count = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert count == 5


async def test_errors_arrive_as_sqlalchemy_errors_and_the_connection_goes_on(
    engine: AsyncEngine,
) -> None:
    """A constraint violation raises IntegrityError; the rolled-back connection works after it."""
    async with engine.begin() as conn:
        await conn.execute(insert(notes).values(body="duplicate"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(notes).values(body="ok"))
            await conn.execute(insert(notes).values(body="duplicate"))
    async with engine.connect() as conn:
        bodies = (await conn.execute(select(notes.c.body))).scalars().all()
    assert bodies == ["duplicate"]


async def test_streamed_results_still_arrive_in_chunks(engine: AsyncEngine) -> None:
    """Server-side cursors (``stream``) keep SQLAlchemy's own cursor and deliver every row."""
    async with engine.begin() as conn:
        await conn.execute(insert(notes), [{"body": f"row {n:03}"} for n in range(250)])
    async with engine.connect() as conn:
        result = await conn.stream(select(notes.c.body).order_by(notes.c.body))
        bodies = [body async for body in result.scalars()]
    assert len(bodies) == 250
    assert bodies[0] == "row 000"
    assert bodies[-1] == "row 249"


def test_the_installed_releases_have_what_the_adapter_builds_on() -> None:
    """If a new SQLAlchemy or aiosqlite moves these internals, this fails (and SQLite slows)."""
    assert sqlite_driver._internals_present()


async def test_without_those_internals_sqlalchemys_own_adapter_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trips: list[str]
) -> None:
    """The engine falls back to four trips per statement rather than failing."""
    monkeypatch.setattr(sqlite_driver, "_internals_present", lambda: False)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            trips.clear()
            value = (await conn.execute(text("SELECT 41 + 1"))).scalar_one()
    finally:
        await engine.dispose()
    assert value == 42
    assert "run_statement" not in trips
    assert len(trips) >= 3
