"""getUpdates read so that one unreadable update stands alone: the same request, then the batch.

The end-to-end tests (tests/e2e/test_malformed_updates.py) show aiogram's polling going on
past an unreadable update; they fail if aiogram stops asking with its GetUpdates or stops
moving its offset past every update it is given.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates, SendMessage, TelegramMethod
from aiogram.types import Update
from pydantic import SecretStr

from bot.app import create_bot
from bot.malformed import MalformedUpdate
from bot.polling import GetRawUpdates, TolerantGetUpdates, read_updates
from bot.settings import Settings
from tests.bot.test_malformed import TOKEN, good
from tests.fixtures.updates import poll_message


class Telegram:
    """Stands for the rest of the request chain: notes the calls, answers ``answer``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked: list[TelegramMethod[Any]] = []

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.asked.append(method)
        return self.answer


async def test_get_updates_is_asked_the_same_and_read_one_by_one() -> None:
    bot = Bot(TOKEN)
    bad = {"update_id": 2, "message": poll_message(77, "민지", "ko")}
    telegram = Telegram([good(1), bad, good(3), {"no": "id"}])
    method = GetUpdates(offset=1, limit=100, timeout=25, allowed_updates=["message"])
    updates = await TolerantGetUpdates()(telegram, bot, method)

    (asked,) = telegram.asked
    assert type(asked) is GetRawUpdates
    assert asked.model_dump() == method.model_dump()
    assert asked.model_fields_set == method.model_fields_set
    assert [type(update) for update in updates] == [Update, MalformedUpdate, Update]
    assert [update.update_id for update in updates] == [1, 2, 3]
    assert updates[1].payload is bad


async def test_a_readable_batch_is_read_at_once_and_bound_to_the_bot() -> None:
    bot = Bot(TOKEN)
    updates = read_updates([good(1), good(2)], bot)
    assert [type(update) for update in updates] == [Update, Update]
    assert all(u.bot is bot and u.message and u.message.chat.bot is bot for u in updates)
    assert read_updates([], bot) == []


async def test_other_calls_and_the_raw_call_itself_pass_untouched() -> None:
    bot = Bot(TOKEN)
    telegram = Telegram(answer := object())
    send = SendMessage(chat_id=1, text="hi")
    raw = GetRawUpdates(offset=3)
    assert await TolerantGetUpdates()(telegram, bot, send) is answer
    assert await TolerantGetUpdates()(telegram, bot, raw) is answer
    assert telegram.asked == [send, raw]


async def test_create_bot_reads_updates_one_by_one() -> None:
    settings = Settings()
    settings.telegram.token = SecretStr(TOKEN)
    bot = create_bot(settings)
    try:
        assert any(isinstance(m, TolerantGetUpdates) for m in bot.session.middleware)
    finally:
        await bot.session.close()
