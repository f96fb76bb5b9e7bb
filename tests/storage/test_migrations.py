"""Migrations build the schema from nothing, match the models and go back down."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (fills SQLModel.metadata)
from storage import migrate
from storage.engine import create_engine

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
