"""Reading updates one by one: an unreadable one stands as a MalformedUpdate with its raw JSON."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.malformed import MalformedUpdate, Writer, private_writer, read_update
from tests.fixtures.updates import POLL_QUESTION, poll_message

TOKEN = "42:malformed-test-token"


def good(update_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": {"id": 77, "type": "private", "first_name": "민지"},
            "from": {"id": 77, "is_bot": False, "first_name": "민지"},
            "text": "불이 났어요",
        },
    }


async def test_a_readable_update_is_an_ordinary_update_bound_to_the_bot() -> None:
    bot = Bot(TOKEN)
    update = read_update(good(), bot)
    assert type(update) is Update
    assert update.bot is bot and update.message and update.message.text == "불이 났어요"


async def test_an_unreadable_update_keeps_its_json_and_names_its_faults_without_values() -> None:
    bot = Bot(TOKEN)
    raw = {"update_id": 9, "message": poll_message(77, "민지", "ko")}
    update = read_update(raw, bot)
    assert isinstance(update, MalformedUpdate)
    assert update.update_id == 9 and update.bot is bot
    assert update.payload is raw
    assert update.message is None  # the routers see nothing to handle
    assert "message.poll.allows_revoting: Field required" in update.problem
    assert update.fields.startswith("message.poll.options.0.persistent_id (missing)")
    assert update.fields.endswith("more")
    for text in (update.problem, update.fields):
        assert POLL_QUESTION not in text and "민지" not in text
    assert update.model_dump(exclude_none=True) == {"update_id": 9}


async def test_an_update_without_an_id_is_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = Bot(TOKEN)
    with caplog.at_level(logging.ERROR, logger="bot.malformed"):
        assert read_update({"message": {"text": "불이 났어요"}}, bot) is None
        assert read_update(["not", "an", "update"], bot) is None
        assert read_update({"update_id": "seven"}, bot) is None
    assert caplog.text.count("an update without an id could not be read") == 3
    assert "불이 났어요" not in caplog.text


def test_the_writer_of_a_private_message_is_read_from_raw_json() -> None:
    payload = {"update_id": 1, "message": poll_message(77, "민지", "ko-KR")}
    assert private_writer(payload) == Writer(chat_id=77, user_id=77, language_code="ko-KR")
    no_sender = {"update_id": 1, "message": {"chat": {"id": 78, "type": "private"}}}
    assert private_writer(no_sender) == Writer(chat_id=78, user_id=78, language_code=None)
    odd_code = {
        "update_id": 1,
        "message": {"chat": {"id": 78, "type": "private"}, "from": {"id": 78, "language_code": 5}},
    }
    assert private_writer(odd_code) == Writer(chat_id=78, user_id=78, language_code=None)


@pytest.mark.parametrize(
    "payload",
    [
        {"update_id": 1, "edited_message": poll_message(77, "민지", "ko")},
        {"update_id": 1, "message": {"chat": {"id": -100, "type": "supergroup"}}},
        {"update_id": 1, "message": {"chat": {"id": "77", "type": "private"}}},
        {
            "update_id": 1,
            "message": {"chat": {"id": 77, "type": "private"}, "from": {"id": 9, "is_bot": True}},
        },
        {"update_id": 1, "message": "not an object"},
        {"update_id": 1, "poll": {"id": "p"}},
    ],
)
def test_no_writer_to_answer(payload: dict[str, Any]) -> None:
    """Edits, groups, bots and anything without a readable private chat get no answer."""
    assert private_writer(payload) is None
