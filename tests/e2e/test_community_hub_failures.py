"""When Telegram refuses the bot in the hub: failed approvals and declines, missing rights."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from storage.models.communities import Community
from storage.models.outbox import OutboxMessage
from tests.e2e.community_helpers import (
    incident_with_card,
    links_in,
    members_of,
    open_and_invite,
    seed,
)
from tests.e2e.conftest import E2E


async def _invited(app: E2E) -> tuple[int, str]:
    """Open the fire community, send the invitations; return the staff topic and fire's link."""
    await seed(app)
    await app.settle()
    incident_id, thread_id, card_id = await incident_with_card(app)
    await open_and_invite(app, incident_id, thread_id, card_id)
    fire = app.world.person("한지훈")
    [link] = links_in(await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대"))
    return thread_id, link


async def test_an_approval_telegram_refuses_is_told_to_the_expert_and_the_staff(app: E2E) -> None:
    """When Telegram fails the approval, the invited expert is not left waiting in silence."""
    thread_id, link = await _invited(app)
    fire = app.world.person("한지훈")
    await app.client.fault("5xx", method="approveChatJoinRequest", status=502)
    await app.client.join_request(fire.id, link)
    await app.settle()
    told = await app.client.wait_for_message(fire.id, contains="아직 승인하지 못했습니다")
    assert "상황실" in str(told.get("text"))
    notice = await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=thread_id, contains="승인하지 못했습니다"
    )
    text = str(notice.get("text"))
    assert "한지훈" in text and "/invite 1" in text
    statuses = [m.status for m in await members_of(app, 1) if m.telegram_user_id == fire.id]
    assert statuses == ["invited"]  # still invited: a new /invite brings them in later


async def test_a_decline_telegram_fails_still_tells_the_applicant_why(app: E2E) -> None:
    """An uninvited applicant hears the reason even when Telegram fails the decline."""
    _, link = await _invited(app)
    flood = app.world.person("윤태양")  # verified, but a fire needs no hydrologist
    await app.client.fault("5xx", method="declineChatJoinRequest", status=502)
    await app.client.join_request(flood.id, link)
    await app.settle()
    told = await app.client.wait_for_message(flood.id, contains="승인할 수 없습니다")
    assert "초대되지 않았습니다" in str(told.get("text"))


async def test_opening_in_a_hub_where_the_bot_lacks_rights_tells_the_staff(app: E2E) -> None:
    """Rights taken from the bot after start-up are named in the staff topic on opening."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    rights = {
        "can_manage_topics": True,
        "can_pin_messages": False,
        "can_delete_messages": True,
        "can_invite_users": True,
        "can_restrict_members": False,
    }
    await app.client.set_admin(hub, app.world.bot_id, rights)
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    notice = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="봇 권한이 부족합니다"
    )
    text = str(notice.get("text"))
    assert "can_pin_messages" in text and "can_restrict_members" in text
    assert "can_invite_users" not in text


async def test_the_rights_check_runs_after_the_opening_commits(app: E2E) -> None:
    """The hub-rights check is not made inside the opening's transaction: while Telegram is
    slow to answer it, the community is already stored with no rights notice queued yet; the
    notice follows once Telegram has answered."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    await app.client.set_admin(
        hub,
        app.world.bot_id,
        {
            "can_manage_topics": True,
            "can_pin_messages": False,
            "can_delete_messages": True,
            "can_invite_users": True,
            "can_restrict_members": True,
        },
    )
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.fault("slow", method="getChatMember", delay=6.0)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    async with asyncio.timeout(30):
        while True:  # the opening's own transaction, seen from another one
            async with app.runtime.session_factory() as session:
                opened = (
                    await session.exec(
                        select(Community).where(Community.incident_id == incident_id)
                    )
                ).first()
                notices = (
                    await session.exec(
                        select(OutboxMessage).where(OutboxMessage.chat_id == staff_chat)
                    )
                ).all()
            if opened is not None:
                break
            await asyncio.sleep(0.05)
    assert not [row for row in notices if "봇 권한이 부족합니다" in str(row.payload.get("text"))]
    await app.settle(timeout=30)
    notice = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="봇 권한이 부족합니다"
    )
    assert "can_pin_messages" in str(notice.get("text"))
