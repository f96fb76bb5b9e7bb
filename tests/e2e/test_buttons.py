"""End to end: answering a button press never undoes the press."""

from __future__ import annotations

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
