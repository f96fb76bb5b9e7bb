"""End to end: every button press gets an answer, and answering never undoes the press."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import event

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
    again = await press(app, haeun.id, the_card, button_data(the_card, "st:takeover:"))
    assert again["answered"] is True and again["text"] == "이미 담당 중입니다."


async def test_a_take_is_answered_only_once_it_is_stored(app: E2E) -> None:
    """While Telegram is slow to take the answer, the take is already stored and shown.

    Before, the answer went out inside the update's transaction: the card changed only after
    the answer's round trip (and on SQLite every other update waited for it too).
    """
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    haeun = app.world.person("정하은")

    await app.client.fault("slow", method="answerCallbackQuery", delay=8)
    pressing = asyncio.create_task(
        app.client.press_button(
            haeun.id,
            app.world.staff_chat_id,
            int(the_card["message_id"]),
            button_data(the_card, "st:take:"),
            timeout=20,
        )
    )
    shown = the_card
    for _ in range(60):  # the card is redrawn after the take commits
        shown = await card(app, thread)
        if "접수됨" in text_of(shown) or pressing.done():
            break
        await asyncio.sleep(0.1)
    answered_before_stored = pressing.done()
    answer = await pressing
    await app.client.clear_faults()

    assert "정하은" in text_of(shown) and "접수됨" in text_of(shown)
    assert not answered_before_stored
    assert answer["answered"] is True and answer["text"] == "담당으로 지정되었습니다."


async def test_a_press_whose_transaction_fails_is_told_so_not_that_it_worked(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The take is rolled back at commit: the presser reads that nothing changed."""
    from handlers.staff import buttons

    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    haeun = app.world.person("정하은")
    perform = buttons.perform

    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("the commit failed")

    async def perform_then_fail_at_commit(*, session: Any, **kwargs: Any) -> Any:
        outcome = await perform(session=session, **kwargs)
        event.listen(session.sync_session, "before_commit", refuse_commit, once=True)
        return outcome

    monkeypatch.setattr(buttons, "perform", perform_then_fail_at_commit)
    answer = await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))

    assert answer["answered"] is True and answer["show_alert"] is True
    assert answer["text"] == "처리하지 못해 아무것도 바뀌지 않았습니다. 다시 눌러 주세요."
    assert "접수됨" not in text_of(await card(app, thread))
