"""Synchronous filters (magic and plain) run on the event loop and still filter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event import handler as aiogram_handler
from aiogram.types import Chat, Message, Update, User

from bot.inline_filters import run_filters_inline


def _update(update_id: int, chat_type: str, text: str) -> Update:
    user = User(id=5, is_bot=False, first_name="Min")
    chat = Chat(id=5 if chat_type == "private" else -100, type=chat_type)
    message = Message(
        message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=user, text=text
    )
    return Update(update_id=update_id, message=message)


def _not_a_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


@pytest.fixture
def no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter was sent to a thread")

    monkeypatch.setattr(aiogram_handler.asyncio, "to_thread", refuse)


async def test_filters_run_inline_and_still_filter(no_threads: None) -> None:
    seen: list[str] = []
    outer, inner = Router(), Router()
    inner.message.filter(F.chat.type == "private")

    @inner.message(F.text, _not_a_command)
    async def report(message: Message) -> None:
        seen.append(message.text or "")

    outer.include_router(inner)
    dispatcher = Dispatcher()
    dispatcher.include_router(outer)

    assert run_filters_inline(dispatcher) == 3
    assert run_filters_inline(dispatcher) == 0  # already awaitable

    bot = Bot(token="42:TEST")
    try:
        await dispatcher.feed_update(bot, _update(1, "private", "불이 났어요"))
        await dispatcher.feed_update(bot, _update(2, "private", "/start"))
        await dispatcher.feed_update(bot, _update(3, "supergroup", "불이 났어요"))
    finally:
        await bot.session.close()
    assert seen == ["불이 났어요"]


async def test_without_the_pass_aiogram_sends_sync_filters_to_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hops: list[object] = []
    real = asyncio.to_thread

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(aiogram_handler.asyncio, "to_thread", counting)
    router = Router()

    @router.message(F.text)
    async def report(message: Message) -> None:
        """Accept any text."""

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(token="42:TEST")
    try:
        await dispatcher.feed_update(bot, _update(1, "private", "hello"))
    finally:
        await bot.session.close()
    assert len(hops) == 1  # the reason for run_filters_inline; fails if aiogram changes this
