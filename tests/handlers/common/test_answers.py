"""Button presses are answered once, safely, and the last-resort router answers any press."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from handlers.common.answers import answer
from handlers.common.fallback import unknown_button


class FakeBot:
    """Stands in for the Bot: records the methods called, or fails them with ``error``."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[Any] = []

    async def __call__(self, method: Any, request_timeout: int | None = None) -> Any:
        self.calls.append(method)
        if self.error is not None:
            raise self.error
        return True


def query(bot: FakeBot, data: str | None) -> CallbackQuery:
    payload = {
        "id": "42",
        "from": {"id": 5, "is_bot": False, "first_name": "Min"},
        "chat_instance": "1",
        "data": data,
    }
    return CallbackQuery.model_validate(payload, context={"bot": bot})


@pytest.mark.parametrize(
    "error",
    [
        TelegramRetryAfter(
            method=AnswerCallbackQuery(callback_query_id="42"), message="429", retry_after=5
        ),
        TelegramBadRequest(
            method=AnswerCallbackQuery(callback_query_id="42"), message="query is too old"
        ),
    ],
)
async def test_a_refused_answer_is_logged_not_raised(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    bot = FakeBot(error)
    await answer(query(bot, "st:take:1:"), "It is yours now.")
    (sent,) = bot.calls
    assert isinstance(sent, AnswerCallbackQuery) and sent.text == "It is yours now."
    assert "could not answer callback query 42" in caplog.text


@pytest.mark.parametrize("data", ["", None, "garbage", "xh:1:2"])
async def test_the_fallback_answers_any_press_in_the_users_language(data: str | None) -> None:
    bot = FakeBot()
    await unknown_button(query(bot, data), "en")
    (sent,) = bot.calls
    assert sent.text == "This button is no longer available."
    bot = FakeBot()
    await unknown_button(query(bot, data), "ko")
    assert bot.calls[0].text == "이 버튼은 더 이상 사용할 수 없습니다."
