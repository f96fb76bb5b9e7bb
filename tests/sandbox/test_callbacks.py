"""Callback queries (press_button) and inline queries, answered by a real aiogram dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from sandbox.client import SandboxError
from tests.sandbox.conftest import World


def build_router() -> Router:
    """A tiny bot: answers button presses and inline queries."""
    router = Router(name="callbacks-test")

    @router.callback_query(F.data == "ack")
    async def on_ack(query: CallbackQuery) -> None:
        """Answer the press with an alert and edit the message."""
        await query.answer("접수되었습니다", show_alert=True)

    @router.inline_query()
    async def on_inline(query: InlineQuery) -> None:
        """Offer one article echoing the query."""
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="1",
                    title=f"매뉴얼: {query.query}",
                    input_message_content=InputTextMessageContent(message_text=query.query),
                )
            ],
            cache_time=1,
        )

    return router


@pytest.fixture
async def polling(world: World) -> AsyncIterator[None]:
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    task = asyncio.create_task(
        dispatcher.start_polling(world.bot, handle_signals=False, polling_timeout=1)
    )
    yield
    await dispatcher.stop_polling()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_press_button_returns_the_answer(world: World, polling: None) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="확인", callback_data="ack"),
                InlineKeyboardButton(text="무시", callback_data="ignored"),
            ]
        ]
    )
    sent = await world.bot.send_message(world.alice["id"], "확인해 주세요", reply_markup=markup)
    answer = await world.client.press_button(
        world.alice["id"], world.alice["id"], sent.message_id, "ack"
    )
    assert answer["answered"] and answer["text"] == "접수되었습니다" and answer["show_alert"]
    silent = await world.client.press_button(
        world.alice["id"], world.alice["id"], sent.message_id, "ignored", timeout=0.5
    )
    assert silent["answered"] is False
    with pytest.raises(SandboxError, match="no inline button"):
        await world.client.press_button(world.alice["id"], world.alice["id"], sent.message_id, "x")


async def test_inline_query_returns_the_results(world: World, polling: None) -> None:
    answer = await world.client.inline_query(world.alice["id"], "지진", "123456:TEST")
    assert answer["answered"]
    assert answer["results"][0]["title"] == "매뉴얼: 지진"


async def test_answering_an_unknown_query_fails(world: World) -> None:
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await world.bot.answer_callback_query("123")
