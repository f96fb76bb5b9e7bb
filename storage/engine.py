"""Async engines and session factories for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Usage::

    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    async with session_factory() as session, session.begin():
        ...

A PostgreSQL URL may carry ``?search_path=<schema>``: connections then use that schema (the test
suite gives every test session its own schema this way).
"""

from __future__ import annotations

import uuid
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.sqlite_driver import one_trip_dbapi

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/jikimi.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# SQLAlchemy's default (5 kept, 10 more opened and closed again on demand) suits short
# commands; a worker passes its own size (``JIKIMI_DATABASE_POOL_SIZE``).
DEFAULT_POOL_SIZE = 5
POOL_OVERFLOW = 10
# A PostgreSQL setting every connection of an engine carries: the outbox's NOTIFY trigger
# sends it as payload, so a process can tell its own commits from other processes' ones.
ORIGIN_SETTING = "jikimi.origin"
_ORIGINS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


class UnsupportedDatabaseURL(ValueError):
    """The URL names a database jikimi does not run on (neither SQLite nor PostgreSQL)."""


def is_sqlite(url: str | URL) -> bool:
    """Whether the URL points at a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def is_postgres(url: str | URL) -> bool:
    """Whether the URL points at a PostgreSQL database."""
    return make_url(url).get_backend_name() == "postgresql"


def split_search_path(url: str | URL) -> tuple[URL, str | None]:
    """Remove a ``search_path`` query parameter from a PostgreSQL URL and return it separately."""
    parsed = make_url(url)
    search_path = parsed.query.get("search_path")
    if isinstance(search_path, tuple):
        search_path = search_path[-1]
    return parsed.difference_update_query(["search_path"]), search_path


def application_name(search_path: str | None = None) -> str:
    """The ``application_name`` of jikimi's PostgreSQL connections (with the schema, if any)."""
    return f"jikimi/{search_path}" if search_path else "jikimi"


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE
) -> AsyncEngine:
    """Create the async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL.

    ``pool_size`` connections stay open; up to ``POOL_OVERFLOW`` more are opened when all are
    busy and closed when returned, which costs a connection, its TLS attempt and its prepared
    statements each time: a process that runs many transactions at once needs a pool as large
    as its concurrency. Errors and echoed statements never show their parameters: these hold
    what citizens wrote, and errors are logged with their tracebacks.
    """
    parsed, search_path = split_search_path(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed, echo=echo, pool_size=pool_size)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        # The application name tells a worker's connections apart in pg_stat_activity (one
        # schema's, in the test suite).
        origin = uuid.uuid4().hex
        server_settings = {"application_name": application_name(search_path)}
        if search_path:
            server_settings["search_path"] = search_path
        server_settings[ORIGIN_SETTING] = origin
        connect_args: dict[str, Any] = {"server_settings": server_settings}
        # No pool_pre_ping: it costs a round trip and 0.25 ms of CPU per transaction. A
        # connection found dead on use makes SQLAlchemy discard the whole pool, and the
        # caller's retry (DatabaseMiddleware, the sender's writes) gets a fresh one.
        engine = _create_async_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args=connect_args,
            pool_size=pool_size,
            max_overflow=POOL_OVERFLOW,
        )
        _ORIGINS[engine.sync_engine] = origin
        return engine
    raise UnsupportedDatabaseURL(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}"
    )


def engine_origin(engine: AsyncEngine) -> str:
    """The ``jikimi.origin`` of the engine's PostgreSQL connections ('' for other engines)."""
    return _ORIGINS.get(engine.sync_engine, "")


def _create_sqlite_engine(url: URL, *, echo: bool, pool_size: int) -> AsyncEngine:
    if url.drivername == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    # One trip to aiosqlite's thread per statement instead of four (storage/sqlite_driver.py).
    driver: dict[str, Any] = {}
    module = one_trip_dbapi()
    if module is not None:
        driver["module"] = module
    if in_memory:  # one connection, kept by SQLAlchemy's static pool
        engine = _create_async_engine(url, echo=echo, hide_parameters=True, **driver)
    else:
        engine = _create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=POOL_OVERFLOW,
            **driver,
        )
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes deadlocks with another one doing the
    # same, and SQLite resolves that only after busy_timeout: take the write lock up front.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not start transactions on its own: _begin_immediate does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the factory of sqlmodel ``AsyncSession`` objects bound to the engine."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
