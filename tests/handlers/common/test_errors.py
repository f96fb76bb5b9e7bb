"""The errors router keeps every failed update as the user sent it, and tells the citizen."""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import ErrorEvent, Update

from bot.malformed import MalformedUpdate, read_update
from handlers.common.errors import keep_failed_update
from tests.bot.test_malformed import TOKEN, good
from tests.fixtures.updates import poll_message


class Recorder:
    """Stands in for the FailureRecorder: keeps what it was given."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []

    async def record(
        self, *, update_id: int, payload: dict[str, Any], error: str, **citizen: Any
    ) -> None:
        self.kept.append({"update_id": update_id, "payload": payload, "error": error, **citizen})


class AnsweringSession(BaseSession):
    """Stands in for Telegram: keeps each call and answers True."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        self.calls.append(method)
        return True

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    async def close(self) -> None:
        return None


async def test_a_failed_button_press_on_a_message_with_link_preview_options_is_kept() -> None:
    telegram = AnsweringSession()
    # aiogram fills the unset fields of link_preview_options with its Default sentinels.
    update = Update.model_validate(
        {
            "update_id": 7,
            "callback_query": {
                "id": "1",
                "from": {"id": 5, "is_bot": False, "first_name": "Min"},
                "chat_instance": "1",
                "data": "st:take:1:",
                "message": {
                    "message_id": 3,
                    "date": 0,
                    "chat": {"id": 5, "type": "private"},
                    "text": "card",
                    "link_preview_options": {"is_disabled": True},
                },
            },
        },
        context={"bot": Bot(TOKEN, session=telegram)},
    )
    recorder = Recorder()
    event = ErrorEvent(update=update, exception=RuntimeError("boom"))

    assert await keep_failed_update(event, recorder) is True  # type: ignore[arg-type]

    (kept,) = recorder.kept
    assert kept["update_id"] == 7 and kept["error"] == "RuntimeError: boom"
    payload = json.loads(json.dumps(kept["payload"]))
    assert payload["callback_query"]["data"] == "st:take:1:"
    assert payload["callback_query"]["message"]["link_preview_options"] == {"is_disabled": True}
    assert (kept["citizen_chat"], kept["lang"]) == (5, "ko")  # they are told it failed
    (answered,) = telegram.calls  # and the press does not spin: it says nothing changed
    assert isinstance(answered, AnswerCallbackQuery)
    assert answered.show_alert is True and answered.text is not None
    assert answered.text.startswith("처리하지 못해")


async def test_a_failed_unreadable_update_is_kept_with_its_raw_json() -> None:
    bot = Bot(TOKEN)
    raw = {"update_id": 4, "message": poll_message(77, "민지", "ko")}
    update = read_update(raw, bot)
    assert isinstance(update, MalformedUpdate)
    recorder = Recorder()
    event = ErrorEvent(update=update, exception=RuntimeError("database gone"))
    assert await keep_failed_update(event, recorder) is True  # type: ignore[arg-type]
    (kept,) = recorder.kept
    assert (kept["update_id"], kept["payload"]) == (4, raw)
    assert (kept["citizen_chat"], kept["lang"]) == (77, "ko")  # told, from the raw JSON
    assert kept["error"] == "RuntimeError: database gone"


async def test_a_failed_update_is_kept_as_read() -> None:
    update = read_update(good(5), Bot(TOKEN))
    assert update is not None
    recorder = Recorder()
    event = ErrorEvent(update=update, exception=ValueError("x"))
    await keep_failed_update(event, recorder)  # type: ignore[arg-type]
    assert recorder.kept[0]["payload"]["message"]["text"] == "불이 났어요"


async def test_the_apology_falls_back_to_the_configured_default_language() -> None:
    from bot.settings import Settings

    raw = good(6)
    raw["message"]["from"]["language_code"] = "ja"  # neither Korean nor English
    update = read_update(raw, Bot(TOKEN))
    assert update is not None
    recorder = Recorder()
    settings = Settings(default_language="en")
    event = ErrorEvent(update=update, exception=ValueError("x"))
    await keep_failed_update(event, recorder, settings=settings)  # type: ignore[arg-type]
    assert recorder.kept[0]["lang"] == "en"
