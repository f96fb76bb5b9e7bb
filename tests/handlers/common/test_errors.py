"""The errors router keeps what the user sent: the raw JSON of an update that was never read."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import ErrorEvent

from bot.malformed import MalformedUpdate, read_update
from handlers.common.errors import keep_failed_update
from tests.bot.test_malformed import TOKEN, good
from tests.fixtures.updates import poll_message


class Recorder:
    """Stands for the FailureRecorder: notes what it was asked to keep."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []

    async def record(self, *, update_id: int, payload: dict[str, Any], error: str) -> None:
        self.kept.append({"update_id": update_id, "payload": payload, "error": error})


async def test_a_failed_unreadable_update_is_kept_with_its_raw_json() -> None:
    bot = Bot(TOKEN)
    raw = {"update_id": 4, "message": poll_message(77, "민지", "ko")}
    update = read_update(raw, bot)
    assert isinstance(update, MalformedUpdate)
    recorder = Recorder()
    event = ErrorEvent(update=update, exception=RuntimeError("database gone"))
    assert await keep_failed_update(event, recorder) is True  # type: ignore[arg-type]
    assert recorder.kept == [
        {"update_id": 4, "payload": raw, "error": "RuntimeError: database gone"}
    ]


async def test_a_failed_update_is_kept_as_read() -> None:
    update = read_update(good(5), Bot(TOKEN))
    assert update is not None
    recorder = Recorder()
    await keep_failed_update(ErrorEvent(update=update, exception=ValueError("x")), recorder)  # type: ignore[arg-type]
    assert recorder.kept[0]["payload"]["message"]["text"] == "불이 났어요"
