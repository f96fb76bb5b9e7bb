"""End to end: the bot knows who blocked it, and staff are told instead of inviting in vain."""

from __future__ import annotations

from sqlmodel import select

from storage.models.chats import ChatState
from tests.e2e.citizen_helpers import bot_texts
from tests.e2e.community_helpers import incident_with_card, members_of, open_and_invite, seed
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import report_fire, seed_staff, text_of, topic_messages, topics


async def _chat_state(app: E2E, chat_id: int) -> ChatState | None:
    async with app.runtime.session_factory() as session:
        return (
            await session.exec(select(ChatState).where(ChatState.chat_id == chat_id))
        ).one_or_none()


async def test_an_expert_who_blocked_the_bot_is_reported_not_invited(app: E2E) -> None:
    """Blocking marks the chat; staff read it in the invitation report; unblocking clears it."""
    await seed(app)
    await app.settle()
    fire = app.world.person("한지훈")
    await app.client.block_bot(fire.id, app.token)
    await app.settle()
    state = await _chat_state(app, fire.id)
    assert state is not None and state.unreachable

    lead, staff_chat = app.world.person("최도윤"), app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, panel_id = await open_and_invite(app, incident_id, thread_id, card_id)
    assert community.id is not None
    await app.settle()
    report = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="초대를 보냈습니다"
    )
    assert f"{fire.name}: 봇을 차단해 초대하지 못했습니다" in str(report["text"])
    assert fire.id not in {m.telegram_user_id for m in await members_of(app, community.id)}

    await app.client.unblock_bot(fire.id, app.token)
    await app.settle()
    state = await _chat_state(app, fire.id)
    assert state is not None and not state.unreachable
    await app.client.press_button(lead.id, staff_chat, panel_id, f"com:send:{community.id}")
    await app.settle()
    await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    members = {m.telegram_user_id: m for m in await members_of(app, community.id)}
    assert members[fire.id].status == "invited"


async def test_staff_are_told_a_citizen_who_blocked_the_bot_got_nothing_until_unblocked(
    app: E2E,
) -> None:
    """A staff answer to a citizen who had blocked the bot was lost without a word to staff."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    staff = app.world.person("정하은")
    await app.client.block_bot(citizen.id, app.token)
    await app.settle()
    await app.client.send_text(
        staff.id, app.world.staff_chat_id, "소방차가 가고 있습니다", message_thread_id=thread
    )
    await app.settle()
    shown = [text_of(message) for message in await topic_messages(app, thread)]
    assert any("연락할 수 있는 시민이 없어" in text for text in shown)

    await app.client.unblock_bot(citizen.id, app.token)
    await app.client.send_text(citizen.id, citizen.id, "아직 연기가 나요")
    await app.settle()
    await app.client.send_text(
        staff.id, app.world.staff_chat_id, "5분 안에 도착합니다", message_thread_id=thread
    )
    await app.settle()
    assert any("5분 안에 도착합니다" in text for text in await bot_texts(app, citizen.id))
