"""One database transaction per update, and redelivered updates ignored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.updates import claim_update

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    """Run each update in its own transaction; retry while the database is briefly down.

    The update id is claimed inside the same transaction, so a redelivered update changes
    nothing and a rolled-back one can be processed again.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        attempts: int = 5,
        first_delay: float = 0.2,
    ) -> None:
        self._session_factory = session_factory
        self._attempts = attempts
        self._first_delay = first_delay

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Wrap the handler chain in a transaction."""
        assert isinstance(event, Update)
        delay = self._first_delay
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._process(handler, event, data)
            except (DBAPIError, ConnectionError, OSError) as error:
                if not _transient(error) or attempt == self._attempts:
                    raise
                log.warning(
                    "database unavailable for update %s (attempt %d): %s",
                    event.update_id,
                    attempt,
                    type(error).__name__,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return UNHANDLED

    async def _process(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        bot = data["bot"]
        async with self._session_factory() as session, session.begin():
            fresh = await claim_update(session=session, bot_id=bot.id, update_id=event.update_id)
            if not fresh:
                log.info("update %s was already processed: ignored", event.update_id)
                return UNHANDLED
            data["session"] = session
            return await handler(event, data)


def _transient(error: Exception) -> bool:
    """Whether a database error means "briefly unavailable" rather than a bug."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    return True
