"""Keep each update that could not be read, and tell its writer, instead of handling it.

A ``MalformedUpdate`` (``bot.malformed``) stands for an update aiogram could not read. It
arrives like any other, after admission and inside the update's transaction (its id claimed,
so a second delivery changes nothing), and ends here: the raw JSON goes to the failed-update
table, the writer of a private message is asked to send it differently, and the routers never
see it.

aiogram cannot tell the chat of an update it could not read, so its chat lock does not hold
it; :class:`MalformedChatLock` takes that lock from the raw JSON instead, so the answer comes
after the answers to the citizen's messages before it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject

from bot.malformed import MalformedUpdate, private_writer
from bot.middlewares.language import citizen_language
from situation.failures import keep_unreadable_update

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MalformedChatLock(BaseMiddleware):
    """Outer update middleware, first of ours: an unreadable private message holds its chat's
    lock, as aiogram's FSM middleware holds it for every update it could read."""

    def __init__(self, fsm: FSMContextMiddleware) -> None:
        self._fsm = fsm

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Run the rest of the chain, holding the chat lock of an unreadable private message."""
        writer = private_writer(event.payload) if isinstance(event, MalformedUpdate) else None
        if writer is None:
            return await handler(event, data)
        context = self._fsm.resolve_context(
            bot=data["bot"], chat_id=writer.chat_id, user_id=writer.user_id
        )
        if context is None:
            return await handler(event, data)
        async with self._fsm.events_isolation.lock(key=context.key):
            return await handler(event, data)


class MalformedUpdateMiddleware(BaseMiddleware):
    """Outer update middleware, after the database one: keep unreadable updates, pass the rest."""

    def __init__(self, *, default_language: str) -> None:
        self._default = default_language

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Keep a ``MalformedUpdate``; hand every other update on."""
        if not isinstance(event, MalformedUpdate):
            return await handler(event, data)
        session = data["session"]
        writer = private_writer(event.payload)
        lang = self._default
        if writer is not None:
            lang = await citizen_language(
                session=session,
                telegram_user_id=writer.user_id,
                code=writer.language_code,
                default=self._default,
            )
        await keep_unreadable_update(
            session=session,
            update_id=event.update_id,
            payload=event.payload,
            problem=event.problem,
            reply_chat_id=writer.chat_id if writer is not None else None,
            lang=lang,
        )
        log.warning(
            "update %s could not be read (%s): keeping it as a failed update%s",
            event.update_id,
            event.fields,
            ", its writer answered" if writer is not None else "",
        )
        return True
