"""End to end: the bot knows who blocked it, and staff are told instead of inviting in vain."""

from __future__ import annotations

from sqlmodel import select

from storage.models.chats import ChatState
from storage.models.communities import CommunityMember
from tests.e2e.community_helpers import community_of, incident_with_card, seed
from tests.e2e.conftest import E2E


async def _chat_state(app: E2E, chat_id: int) -> ChatState | None:
    async with app.runtime.session_factory() as session:
        return (
            await session.exec(select(ChatState).where(ChatState.chat_id == chat_id))
        ).one_or_none()


async def _members(app: E2E, community_id: int) -> dict[int, CommunityMember]:
    async with app.runtime.session_factory() as session:
        rows = await session.exec(
            select(CommunityMember).where(CommunityMember.community_id == community_id)
        )
        return {member.telegram_user_id: member for member in rows.all()}


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
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    community = await community_of(app, incident_id)
    assert community.id is not None
    panel = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="전문가 커뮤니티"
    )
    send = f"com:send:{community.id}"
    await app.client.press_button(lead.id, staff_chat, int(panel["message_id"]), send)
    await app.settle()
    report = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="초대를 보냈습니다"
    )
    assert f"{fire.name}: 봇을 차단해 초대하지 못했습니다" in str(report["text"])
    assert fire.id not in await _members(app, community.id)

    await app.client.unblock_bot(fire.id, app.token)
    await app.settle()
    state = await _chat_state(app, fire.id)
    assert state is not None and not state.unreachable
    await app.client.press_button(lead.id, staff_chat, int(panel["message_id"]), send)
    await app.settle()
    await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    assert (await _members(app, community.id))[fire.id].status == "invited"
