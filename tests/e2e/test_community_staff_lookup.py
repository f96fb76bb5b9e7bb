"""Staff name experts by id: /invite finds them or refuses; /experts all lists everyone."""

from __future__ import annotations

from sqlmodel import col, select

from storage.models.experts import Expert
from tests.e2e.community_helpers import incident_with_card, seed
from tests.e2e.conftest import E2E


async def test_invite_by_id_and_list_everyone(app: E2E) -> None:
    """An unknown id is refused, a registered expert is invited, /experts all lists them."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat = app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    async with app.runtime.session_factory() as session:
        statement = select(Expert).where(col(Expert.telegram_user_id) == fire.id)
        expert = (await session.exec(statement)).one()

    async def staff_says(text: str, answer: str) -> None:
        await app.client.send_text(lead.id, staff_chat, text, message_thread_id=thread_id)
        await app.settle(timeout=30)
        await app.client.wait_for_message(staff_chat, message_thread_id=thread_id, contains=answer)

    await staff_says("/invite 999999", "등록되어 있지 않습니다")
    await staff_says(f"/invite {expert.id}", f"{fire.name} 님을 초대했습니다")
    await staff_says("/experts all", f"#{expert.id} {fire.name}")


async def test_invite_and_exclude_name_the_expert_or_say_there_is_none(app: E2E) -> None:
    """/exclude and /invite by expert number name the expert, or say the number is unknown."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat = app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    fire = app.world.person("한지훈")
    for command in ("/exclude 999", "/invite 999", f"/exclude {fire.id}", "/exclude 1"):
        await app.client.send_text(lead.id, staff_chat, command, message_thread_id=thread_id)
        await app.settle(timeout=30)
    answers = [
        str(m.get("text"))
        for m in await app.client.messages(staff_chat, message_thread_id=thread_id)
        if not str(m.get("text")).startswith("/")
    ][-4:]
    assert all("/experts all" in text for text in answers[:3]), answers
    assert "한지훈" in answers[3] and "#1" in answers[3]


async def test_a_number_that_cannot_be_an_id_is_answered_not_crashed_on(app: E2E) -> None:
    """A number past 64 bits, a superscript digit or a doubled minus names no target."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat = app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    huge = "9" * 25
    commands = [f"/invite {huge}", "/exclude ²", "/mute --5", f"/del {huge}", f"/pin -{huge}"]
    for command in commands:
        await app.client.send_text(lead.id, staff_chat, command, message_thread_id=thread_id)
        await app.settle(timeout=30)
    shown = [
        str(m.get("text"))
        for m in await app.client.messages(staff_chat, message_thread_id=thread_id)
    ]
    answers = [text for text in shown[shown.index(commands[0]) :] if not text.startswith("/")]
    assert len(answers) == len(commands), shown
    assert all("대상을 지정하세요" in text for text in answers), answers
