"""End to end: staff commands in the supergroup — /history, /stats, /duty, /staff, /canned."""

from __future__ import annotations

from tests.e2e.citizen_helpers import bot_texts
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    seed_staff,
    text_of,
    topic_messages,
    topics,
)


async def test_commands_in_a_topic_and_in_general(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun, seoyeon = app.world.person("정하은"), app.world.person("이서연")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))

    await app.client.send_text(haeun.id, chat, "/canned on_the_way", message_thread_id=thread)
    await app.client.send_text(haeun.id, chat, "/note 현장 확인 중", message_thread_id=thread)
    await app.client.send_text(haeun.id, chat, "/history", message_thread_id=thread)
    await app.settle()
    assert any("출동 요청" in text for text in await bot_texts(app, citizen.id))
    history = [text_of(m) for m in await topic_messages(app, thread) if "처리 이력" in text_of(m)]
    assert history and all(a in history[-1] for a in ("opened", "take", "canned", "note"))

    await app.client.send_text(haeun.id, chat, "/stats")
    await app.client.send_text(haeun.id, chat, "/duty")
    await app.client.send_text(haeun.id, chat, "/staff add 777 lead 새 조장")  # not an admin
    await app.client.send_text(seoyeon.id, chat, "/staff add 778 staff 새 근무자")
    await app.settle()
    general = [text_of(m) for m in await app.client.messages(chat)]
    assert any("상황실 통계" in text and "사건 1건" in text for text in general)
    assert any("근무표가 설정되어 있지 않습니다" in text for text in general)
    assert any("상황실 근무자만" in text for text in general)
    members = [text for text in general if text.startswith("👥")]
    assert members and "새 근무자" in members[-1] and "새 조장" not in members[-1]
