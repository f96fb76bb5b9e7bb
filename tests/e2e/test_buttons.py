"""End to end: every button press gets an answer, and answering never undoes the press."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    seed_staff,
    text_of,
    topics,
)


async def _buttons(app: E2E, chat_id: int, *data: str) -> dict[str, Any]:
    """Have the bot show a message with one button per callback data (stale or forged ones)."""
    await app.client.start_bot(chat_id, bot_token=app.token)
    await app.settle()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=item, callback_data=item)] for item in data]
    )
    sent = await app.runtime.bot.send_message(chat_id, "buttons", reply_markup=keyboard)
    return {"message_id": sent.message_id}


async def test_unknown_button_data_gets_an_answer_in_the_users_language(app: E2E) -> None:
    english = await app.citizen("Button", "en")
    korean = await app.citizen("버튼", "ko")
    for person, expected in (
        (english, "This button is no longer available."),
        (korean, "이 버튼은 더 이상 사용할 수 없습니다."),
    ):
        shown = await _buttons(app, person.id, "garbage", "xh:1:2", "fu:x:y", "com:reg:a:b")
        for data in ("garbage", "xh:1:2", "fu:x:y", "com:reg:a:b"):
            answer = await app.client.press_button(
                person.id, person.id, int(shown["message_id"]), data, timeout=5
            )
            assert answer["answered"] is True, data
            assert answer["text"] == expected, data


async def test_a_forged_staff_button_is_refused_in_the_citizens_language(app: E2E) -> None:
    citizen = await app.citizen("Forger", "en")
    shown = await _buttons(app, citizen.id, "st:take:1:", "st:garbage")
    for data in ("st:take:1:", "st:garbage"):
        answer = await app.client.press_button(
            citizen.id, citizen.id, int(shown["message_id"]), data, timeout=5
        )
        assert answer["answered"] is True
        assert answer["text"] == "Only situation-room staff can use this."


async def test_a_take_stands_when_telegram_refuses_its_answer_with_429(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    haeun = app.world.person("정하은")

    await app.client.fault("429", method="answerCallbackQuery", retry_after=5)
    answer = await app.client.press_button(
        haeun.id,
        app.world.staff_chat_id,
        int(the_card["message_id"]),
        button_data(the_card, "st:take:"),
        timeout=3,
    )
    await app.settle()
    await app.client.clear_faults()

    assert answer["answered"] is False  # the answer met the 429; the take did not
    the_card = await card(app, thread)
    assert "정하은" in text_of(the_card) and "접수됨" in text_of(the_card)
    (topic,) = await topics(app)
    assert topic["name"].startswith("🟡")
    # The button works as before once Telegram answers again.
    again = await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    assert again["answered"] is True and again["text"] == "이미 담당 중입니다."
