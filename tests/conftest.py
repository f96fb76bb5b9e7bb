"""Shared fixtures: a migrated database per test (SQLite or PostgreSQL) and service guards.

Fixtures
- ``database_url``: URL of a migrated, empty database for this test. SQLite by default (a copy of
  a template migrated once per session); when ``JIKIMI_DATABASE_URL`` is a PostgreSQL URL, a
  schema created and migrated once per session (``?search_path=<schema>`` in the URL, understood
  by ``storage.engine.create_engine``) and truncated before every test.
- ``engine`` / ``session_factory``: built on ``database_url``.
- ``empty_database_url``: a database with no tables (for migration tests).
- ``postgres_url``: an empty schema on the PostgreSQL server, whatever ``JIKIMI_DATABASE_URL`` is
  (the test is skipped, or fails when CI=true, if PostgreSQL is down).

Markers ``postgres`` and ``redis`` (or calling ``require_postgres()`` / ``require_redis()``) fail
the test when ``CI=true`` and the service is missing, and skip it with a reason elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import create_engine, create_session_factory, is_postgres
from storage.migrate import upgrade

pytest_plugins = ["tests.fixtures.sandbox"]

POSTGRES_URL = os.environ.get(
    "JIKIMI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("JIKIMI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@cache
def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{service} is not reachable at {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} and CI=true", pytrace=False)
    pytest.skip(reason)


def postgres_server_url() -> str:
    """The PostgreSQL server the suite uses (``JIKIMI_DATABASE_URL`` when it is PostgreSQL)."""
    configured = os.environ.get("JIKIMI_DATABASE_URL", "")
    return configured if configured and is_postgres(configured) else POSTGRES_URL


def require_postgres() -> None:
    """Fail (CI) or skip (elsewhere) the current test when PostgreSQL is unreachable."""
    url = make_url(postgres_server_url())
    _require("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)


def require_redis() -> None:
    """Fail (CI) or skip (elsewhere) the current test when Redis is unreachable."""
    url = make_url(REDIS_URL)
    _require("Redis", url.host or "127.0.0.1", url.port or 6379)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Apply the ``postgres`` and ``redis`` markers."""
    if item.get_closest_marker("postgres"):
        require_postgres()
    if item.get_closest_marker("redis"):
        require_redis()


def _use_postgres() -> bool:
    return is_postgres(os.environ.get("JIKIMI_DATABASE_URL", "") or "sqlite://")


def _with_search_path(url: str, schema: str) -> str:
    return make_url(url).update_query_dict({"search_path": schema}).render_as_string(False)


async def _create_schema(schema: str) -> None:
    engine = create_engine(postgres_server_url())
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await engine.dispose()


async def _drop_schema(schema: str) -> None:
    engine = create_engine(postgres_server_url())
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


async def _truncate(url: str, schema: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            rows = await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :schema"
                    " AND tablename <> 'alembic_version'"
                ),
                {"schema": schema},
            )
            tables = [f'"{schema}"."{name}"' for (name,) in rows]
            if tables:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def new_schema_name() -> str:
    """A schema name no other test process uses."""
    return f"t_{os.getpid()}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database made once per session: a SQLite file path, or a PostgreSQL URL."""
    if _use_postgres():
        require_postgres()
        schema = new_schema_name()
        url = _with_search_path(postgres_server_url(), schema)
        asyncio.run(_create_schema(schema))
        try:
            asyncio.run(upgrade(url))
            yield url
        finally:
            asyncio.run(_drop_schema(schema))
        return
    path = tmp_path_factory.mktemp("db-template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    yield str(path)


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> str:
    """URL of a migrated database holding no rows, private to this test."""
    if _use_postgres():
        schema = make_url(_migrated_template).query["search_path"]
        assert isinstance(schema, str)
        asyncio.run(_truncate(_migrated_template, schema))
        return _migrated_template
    path = tmp_path / "jikimi.db"
    shutil.copyfile(_migrated_template, path)
    for suffix in ("-wal", "-shm"):
        companion = Path(_migrated_template + suffix)
        if companion.exists():
            shutil.copyfile(companion, str(path) + suffix)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """URL of a database with no tables at all, private to this test."""
    if not _use_postgres():
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _empty_postgres()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of an empty PostgreSQL schema private to this test (skips/fails without PostgreSQL)."""
    yield from _empty_postgres()


def _empty_postgres() -> Iterator[str]:
    require_postgres()
    schema = new_schema_name()
    asyncio.run(_create_schema(schema))
    try:
        yield _with_search_path(postgres_server_url(), schema)
    finally:
        asyncio.run(_drop_schema(schema))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on this test's migrated database."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on this test's migrated database."""
    return create_session_factory(engine)
