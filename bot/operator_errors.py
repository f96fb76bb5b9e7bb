"""The failures an operator causes and can fix, told in one line instead of a traceback.

Usage::

    problem = explain(error)        # "cannot connect to the database ...: ..." or None
    if problem is None:
        ...                         # a real bug: log the traceback

A database that is down or misnamed, a settings value that does not parse, a token the Bot API
refuses, a Bot API that cannot be reached, a database not migrated: each is said in a line
naming what to fix. Anything else is unexpected and keeps its traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.exc import ArgumentError, DBAPIError

from storage.engine import UnsupportedDatabaseURL
from storage.migrate import DatabaseNotMigrated

# Where a connection failure raised from tells a database's from another's (the Bot API's
# come wrapped by aiogram, a listening socket's from asyncio); storage.engine makes the
# directory of a SQLite file.
_DATABASE_MODULES = ("asyncpg", "aiosqlite", "sqlalchemy", "storage.engine")
_CHECK_URL = " (check JIKIMI_DATABASE_URL, and that the database is up)"


def explain(error: BaseException) -> str | None:
    """One line saying what the operator must fix, or None for an unexpected error."""
    for cause in _chain(error):
        problem = _explain_one(cause)
        if problem is not None:
            return problem
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and the errors it was raised from, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _explain_one(error: BaseException) -> str | None:
    if isinstance(error, DatabaseNotMigrated):
        return str(error)
    if isinstance(error, ValidationError):
        return _invalid_settings(error)
    if isinstance(error, SettingsError):
        return f"invalid settings: {error} (check the JIKIMI_ environment and .env)"
    if isinstance(error, (ArgumentError, UnsupportedDatabaseURL)):
        return (
            f"invalid database URL ({_first_line(error)}): use sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST:PORT/DATABASE"
        )
    if isinstance(error, TelegramUnauthorizedError):
        return "the Bot API refused the bot token (Unauthorized): check JIKIMI_TELEGRAM__TOKEN"
    if isinstance(error, TelegramNetworkError):
        return f"cannot reach the Bot API: {error.message} (check JIKIMI_TELEGRAM__API_BASE)"
    if isinstance(error, TelegramAPIError):
        return f"the Bot API refused {error.method.__api_method__}: {error.message}"
    if isinstance(error, DBAPIError) and error.statement is None:  # failed to connect
        return f"cannot connect to the database: {_first_line(error.orig or error)}{_CHECK_URL}"
    if isinstance(error, OSError | TimeoutError) and _raised_in(error, _DATABASE_MODULES):
        reason = _first_line(error) or type(error).__name__
        return f"cannot connect to the database: {reason}{_CHECK_URL}"
    if isinstance(error, OSError) and error.errno in (errno.EADDRINUSE, errno.EACCES):
        return f"cannot listen: {error.strerror or error} (check JIKIMI_TELEGRAM__WEBHOOK_PORT)"
    return None


def _invalid_settings(error: ValidationError) -> str:
    """Name the environment variables whose values do not parse."""
    problems = []
    for item in error.errors():
        name = "JIKIMI_" + "__".join(str(part) for part in item["loc"]).upper()
        problems.append(f"{name}: {item['msg']}")
    return "invalid settings: " + "; ".join(problems)


def _raised_in(error: BaseException, modules: tuple[str, ...]) -> bool:
    """Whether a frame of the error's traceback belongs to one of ``modules``."""
    traceback = error.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if any(module == name or module.startswith(f"{name}.") for name in modules):
            return True
        traceback = traceback.tb_next
    return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""
