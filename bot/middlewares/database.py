"""One database transaction per update, and redelivered updates ignored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.common.answers import answers_after_commit, send_answer
from storage.updates import claim_update, claim_update_from

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

_GATES: weakref.WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def write_gate(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """Hold this process's turn to write to a SQLite database (no-op on other databases).

    SQLite lets one transaction write at a time and every transaction here starts with
    ``BEGIN IMMEDIATE``; a connection that finds the lock taken sleeps in SQLite's busy
    handler (1, 2, 5 ... 100 ms), so under load the lock sits free while waiters sleep. Waiting
    for an asyncio lock first hands the database over the moment the previous transaction
    ends. Other processes still meet the busy handler as before.
    """
    engine = session_factory.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        yield
        return
    loop = asyncio.get_running_loop()
    known = _GATES.get(engine.sync_engine)
    if known is None or known[0] is not loop:
        known = (loop, asyncio.Lock())
        _GATES[engine.sync_engine] = known
    async with known[1]:
        yield


class DatabaseMiddleware(BaseMiddleware):
    """Run each update in its own transaction; retry while the database is briefly down.

    The update id is claimed inside the same transaction, so a redelivered update changes
    nothing and a rolled-back one can be processed again. The claim reads the sender's citizen
    and staff rows along (``data["claimed_update"]``) for the middlewares after it.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        patience: float = 120.0,
        first_delay: float = 0.2,
        longest_delay: float = 5.0,
    ) -> None:
        self._session_factory = session_factory
        self._patience = patience
        self._first_delay = first_delay
        self._longest_delay = longest_delay

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Wrap the handler chain in a transaction, retried for up to ``patience`` seconds.

        While an update waits for the database it keeps its place among the updates in
        flight, so a longer outage fills them and the worker fetches no more: the rest stay
        with Telegram instead of failing one by one (a failed update cannot be kept either
        while the database is down).
        """
        assert isinstance(event, Update)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._patience
        delay = self._first_delay
        attempt = 1
        while True:
            try:
                return await self._process(handler, event, data)
            except (DBAPIError, ConnectionError, OSError) as error:
                if not _transient(error) or loop.time() + delay > deadline:
                    raise
                log.warning(
                    "database unavailable for update %s (attempt %d): %s",
                    event.update_id,
                    attempt,
                    type(error).__name__,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._longest_delay)
            attempt += 1

    async def _process(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        bot = data["bot"]
        with answers_after_commit() as answers:
            async with (
                write_gate(self._session_factory),
                self._session_factory() as session,
                session.begin(),
            ):
                user = data.get("event_from_user")
                if user is not None and not user.is_bot:
                    claimed = await claim_update_from(
                        session=session,
                        bot_id=bot.id,
                        update_id=event.update_id,
                        telegram_user_id=user.id,
                    )
                    data["claimed_update"] = claimed
                    fresh = claimed.fresh
                else:
                    fresh = await claim_update(
                        session=session, bot_id=bot.id, update_id=event.update_id
                    )
                if not fresh:
                    log.info("update %s was already processed: ignored", event.update_id)
                    data["repeated_update"] = True
                    return UNHANDLED
                data["session"] = session
                result = await handler(event, data)
        # Committed: only now may a button's answer say what the press did.
        for pending in answers:
            await send_answer(pending)
        return result


def _transient(error: Exception) -> bool:
    """Whether a database error means "briefly unavailable" rather than a bug."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    return True
