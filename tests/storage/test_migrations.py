"""Migrations build the schema from nothing, match the models and go back down."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (fills SQLModel.metadata)
from storage import migrate
from storage.engine import create_engine
from storage.models.outbox import Priority

FOUNDATION_TABLES = {"outbox", "processed_update", "chat_state", "failed_update"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _schema_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    SQLModel.metadata,
                )
            )
    finally:
        await engine.dispose()


async def _upgrade_check_and_downgrade(url: str) -> None:
    assert await migrate.current(url) is None
    await migrate.upgrade(url)
    assert await migrate.current(url) == migrate.head()
    tables = await _tables(url)
    assert tables >= FOUNDATION_TABLES
    assert set(SQLModel.metadata.tables) <= tables
    assert await _schema_diff(url) == []

    await migrate.downgrade(url, "0001_foundation")
    assert await migrate.current(url) == "0001_foundation"
    assert (await _tables(url)) - {"alembic_version"} == FOUNDATION_TABLES

    await migrate.downgrade(url, "base")
    assert await migrate.current(url) is None
    assert (await _tables(url)) - {"alembic_version"} == set()

    await migrate.upgrade(url)
    assert await migrate.current(url) == migrate.head()


async def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path: object) -> None:
    """An empty SQLite file migrates to the models' schema and back."""
    await _upgrade_check_and_downgrade(f"sqlite+aiosqlite:///{tmp_path}/nested/dir/jikimi.db")


@pytest.mark.postgres
async def test_postgres_upgrade_matches_models_and_downgrades(postgres_url: str) -> None:
    """An empty PostgreSQL schema migrates to the models' schema and back."""
    await _upgrade_check_and_downgrade(postgres_url)


async def test_configured_database_upgrades(empty_database_url: str) -> None:
    """The database the suite runs on (SQLite or PostgreSQL) migrates from empty."""
    await migrate.upgrade(empty_database_url)
    assert await _schema_diff(empty_database_url) == []


def test_migrations_form_a_single_line() -> None:
    """Every revision has one parent and there is exactly one head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001_foundation"
    assert all(isinstance(rev.down_revision, str | None) for rev in revisions)


async def test_require_head_tells_what_to_do(empty_database_url: str) -> None:
    """A database behind the code is refused with the command that fixes it."""
    with pytest.raises(migrate.DatabaseNotMigrated, match="jikimi db upgrade"):
        await migrate.require_head(empty_database_url)
    await migrate.upgrade(empty_database_url, "0001_foundation")
    with pytest.raises(migrate.DatabaseNotMigrated, match="0001_foundation"):
        await migrate.require_head(empty_database_url)
    await migrate.upgrade(empty_database_url)
    await migrate.require_head(empty_database_url)


async def _priorities(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT priority FROM outbox ORDER BY id"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_guidance_priority_moves_queued_rows_down_and_back(empty_database_url: str) -> None:
    """0006 keeps queued rows' order: 0/1/2 become 1/2/3 (citizen, staff, bulk) and back."""
    url = empty_database_url
    await migrate.upgrade(url, "0005_unrelayed_index")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for priority in (0, 1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO outbox (chat_id, kind, payload, priority, status, attempts,"
                        " next_attempt_at, created_at) VALUES (1, 'text', '{}', :priority,"
                        " 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"priority": priority},
                )
    finally:
        await engine.dispose()
    await migrate.upgrade(url, "0006_guidance_priority")
    assert await _priorities(url) == [
        Priority.CITIZEN_REPLY,
        Priority.STAFF_NOTICE,
        Priority.BULK,
    ]
    await migrate.downgrade(url, "0005_unrelayed_index")
    assert await _priorities(url) == [0, 1, 2]
