"""SQLAlchemy's aiosqlite adapter with one trip to aiosqlite's thread per statement.

aiosqlite runs every call on a thread of its own, and each call is a hop there and back: a
queue put, a thread wake-up and the event loop woken by ``call_soon_threadsafe``. SQLAlchemy's
adapter makes four such calls per statement: it opens a cursor, runs the statement, fetches the
rows and closes the cursor. The cursor here does all four in one function on the thread and
keeps what SQLAlchemy reads afterwards (description, row count, last row id, rows).

It reaches into aiosqlite the way SQLAlchemy's own adapter does (the connection's queued
``_execute`` and its ``sqlite3`` connection) and builds on SQLAlchemy 2.1's asyncio cursor.
Where a release moves those internals the engine uses SQLAlchemy's own adapter instead, and
``tests/storage/test_sqlite_driver.py`` fails, so that it does not go unnoticed.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

log = logging.getLogger(__name__)


class StatementOutcome:
    """What a statement left behind on its (closed) ``sqlite3`` cursor."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount", "rows")

    def __init__(
        self,
        description: Any = None,
        rowcount: int = -1,
        lastrowid: int | None = None,
        rows: Sequence[Any] = (),
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.rows = rows
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to close: the ``sqlite3`` cursor was closed on aiosqlite's thread."""


_NOTHING_RUN = StatementOutcome()


def run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any
) -> StatementOutcome:
    """Run one statement on aiosqlite's thread, read all its rows and close its cursor."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else ()
        return StatementOutcome(cursor.description, cursor.rowcount, cursor.lastrowid, rows)
    finally:
        cursor.close()


def run_statement_many(
    connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]
) -> StatementOutcome:
    """Run one statement for each set of parameters on aiosqlite's thread."""
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return StatementOutcome(None, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statements each take one trip to aiosqlite's thread."""

    __slots__ = ()
    # Its "cursor" is a StatementOutcome, closed already.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _NOTHING_RUN  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome = await connection._execute(
                run_statement, connection._conn, operation, parameters
            )
        self._cursor = outcome
        self._rows = collections.deque(outcome.rows)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            self._cursor = await connection._execute(
                run_statement_many, connection._conn, operation, seq_of_parameters
            )
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, handing out one-trip cursors."""

    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI shim whose connections hand out one-trip cursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        """Open an aiosqlite connection wrapped in a :class:`OneTripConnection`."""
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI | None:
    """The DBAPI module to give ``create_async_engine(module=...)`` for a SQLite URL.

    ``None`` (SQLAlchemy's own adapter, four trips per statement) where the installed
    SQLAlchemy or aiosqlite no longer has the internals this adapter builds on.
    """
    if not _internals_present():
        log.warning("SQLite: SQLAlchemy's own aiosqlite adapter (this release moved its internals)")
        return None
    return OneTripDBAPI(aiosqlite, sqlite3)


def _internals_present() -> bool:
    return (
        callable(getattr(aiosqlite.Connection, "_execute", None))
        and isinstance(getattr(aiosqlite.Connection, "_conn", None), property)
        and callable(getattr(AsyncAdapt_aiosqlite_cursor, "_execute_async", None))
        and "_soft_closed_memoized" in getattr(AsyncAdapt_dbapi_cursor, "__slots__", ())
    )
