"""An unreadable private message holds the same chat lock aiogram holds for a readable one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.types import Update

from bot.malformed import read_update
from bot.middlewares.malformed import MalformedChatLock
from tests.bot.test_malformed import TOKEN, good
from tests.fixtures.updates import poll_message


class Locks(BaseEventIsolation):
    """Notes the keys locked."""

    def __init__(self) -> None:
        self.keys: list[StorageKey] = []

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        self.keys.append(key)
        yield

    async def close(self) -> None:
        pass


async def _through(middleware: MalformedChatLock, update: Update, bot: Bot) -> bool:
    ran = False

    async def handler(event: Any, data: dict[str, Any]) -> None:
        nonlocal ran
        ran = True

    await middleware(handler, update, {"bot": bot})
    return ran


async def test_the_lock_of_an_unreadable_message_is_its_chats_lock() -> None:
    bot = Bot(TOKEN)
    locks = Locks()
    dispatcher = Dispatcher(events_isolation=locks)
    readable = good(1)
    user_id = readable["message"]["from"]["id"]
    context = UserContextMiddleware.resolve_event_context(Update.model_validate(readable))
    aiograms = dispatcher.fsm.resolve_context(bot, context.chat_id, context.user_id)
    assert aiograms is not None

    unreadable = read_update({"update_id": 2, "message": poll_message(user_id, "민지", "ko")}, bot)
    assert unreadable is not None
    assert await _through(MalformedChatLock(dispatcher.fsm), unreadable, bot)
    assert locks.keys == [aiograms.key]


async def test_other_updates_pass_without_a_lock() -> None:
    bot = Bot(TOKEN)
    locks = Locks()
    dispatcher = Dispatcher(events_isolation=locks)
    middleware = MalformedChatLock(dispatcher.fsm)
    group = {"update_id": 3, "message": {"chat": {"id": -100, "type": "supergroup"}, "poll": {}}}
    for update in (read_update(good(1), bot), read_update(group, bot)):
        assert update is not None
        assert await _through(middleware, update, bot)
    assert locks.keys == []
