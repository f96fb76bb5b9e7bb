"""The hub port against the sandbox: rights check, and pin, delete, remove by replying."""

from __future__ import annotations

from bot.hub_admin import BotHubAdmin
from tests.e2e.community_helpers import (
    community_of,
    incident_with_card,
    join_with_invitation,
    members_of,
    open_and_invite,
    seed,
    transcript_of,
)
from tests.e2e.conftest import E2E


async def test_missing_rights_are_named(app: E2E) -> None:
    """The demo hub lacks nothing; a plain group without topics or rights is reported."""
    hub = BotHubAdmin(app.runtime.bot)
    assert await hub.missing_rights(chat_id=app.world.experts_hub_id) == []
    poor = await app.client.create_supergroup(
        title="no rights",
        is_forum=False,
        bot_token=app.token,
        bot_rights={"can_invite_users": True, "can_pin_messages": True},
    )
    missing = await hub.missing_rights(chat_id=int(poor["id"]))
    assert {"can_manage_topics", "can_restrict_members", "can_delete_messages"} <= set(missing)
    assert "forum topics enabled" in missing and "can_invite_users" not in missing


async def test_pin_delete_and_remove_by_replying(app: E2E) -> None:
    """Staff reply in the community with /pin, /del and /remove."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    hub = app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    topic = community.topic_id
    await join_with_invitation(app, fire.id)
    key = await app.client.send_text(fire.id, hub, "소화전 위치: 북문 옆", message_thread_id=topic)
    spam = await app.client.send_text(fire.id, hub, "광고입니다", message_thread_id=topic)
    await app.settle()
    for command, target in (("/pin", key), ("/del", spam)):
        await app.client.send_text(
            lead.id,
            hub,
            command,
            message_thread_id=topic,
            reply_to_message_id=int(target["message_id"]),
        )
        await app.settle(timeout=30)
    shown = {m["message_id"]: m for m in await app.client.messages(hub, message_thread_id=topic)}
    assert shown[key["message_id"]].get("pinned")
    assert spam["message_id"] not in shown
    stored = {m.message_id: m for m in await transcript_of(app, community.id or 0)}
    assert stored[key["message_id"]].pinned and stored[spam["message_id"]].deleted
    await app.client.send_text(
        lead.id,
        hub,
        "/remove",
        message_thread_id=topic,
        reply_to_message_id=int(key["message_id"]),
    )
    await app.settle(timeout=30)
    assert (await app.client.member(hub, fire.id))["status"] == "left"
    [member] = [
        m for m in await members_of(app, community.id or 0) if m.telegram_user_id == fire.id
    ]
    assert member.status == "removed"


async def test_an_expert_removed_from_an_open_community_is_not_let_back_by_another(
    app: E2E,
) -> None:
    """Removed from one community, an expert's request through another community's invitation
    is declined while the first is open (the hub holds both topics); both sides are told."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    first_id, first_thread, first_card = await incident_with_card(app)
    first, _ = await open_and_invite(app, first_id, first_thread, first_card)
    await join_with_invitation(app, fire.id)
    [joined] = [m for m in await members_of(app, first.id or 0) if m.telegram_user_id == fire.id]
    fire_expert_id = joined.expert_id
    await app.client.send_text(
        lead.id, staff_chat, f"/remove {fire.id}", message_thread_id=first_thread
    )
    await app.settle(timeout=30)
    assert (await app.client.member(hub, fire.id))["status"] == "left"

    second_id, second_thread, second_card = await incident_with_card(
        app, reference="I-20261122-0043"
    )
    await open_and_invite(app, second_id, second_thread, second_card)  # fire is skipped
    await app.settle()
    await app.client.send_text(  # ... but a staff member invites them by hand
        lead.id, staff_chat, f"/invite {fire_expert_id}", message_thread_id=second_thread
    )
    await app.settle(timeout=30)
    await join_with_invitation(app, fire.id)  # the second community's invitation

    assert (await app.client.member(hub, fire.id))["status"] == "left"
    told = await app.client.wait_for_message(fire.id, contains="승인할 수 없습니다")
    assert "제외했습니다" in str(told.get("text"))
    notice = await app.client.wait_for_message(
        staff_chat, message_thread_id=second_thread, contains="참여 요청을 거절했습니다"
    )
    text = str(notice.get("text"))
    assert "I-20261122-0042" in text and f"/invite {fire_expert_id}" in text
    second = await community_of(app, second_id)
    [removed] = [m for m in await members_of(app, first.id or 0) if m.telegram_user_id == fire.id]
    [invited] = [m for m in await members_of(app, second.id or 0) if m.telegram_user_id == fire.id]
    assert (removed.status, invited.status) == ("removed", "invited")


async def test_an_expert_shut_out_of_an_open_community_gets_no_other_invitation(
    app: E2E,
) -> None:
    """Removed from one open community, an expert is skipped when another community's
    invitations go out (the hub would decline them), and that community's staff are told who
    and why, with the /invite that brings them in later."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat = app.world.staff_chat_id
    first_id, first_thread, first_card = await incident_with_card(app)
    first, _ = await open_and_invite(app, first_id, first_thread, first_card)
    await join_with_invitation(app, fire.id)
    [joined] = [m for m in await members_of(app, first.id or 0) if m.telegram_user_id == fire.id]
    await app.client.send_text(
        lead.id, staff_chat, f"/remove {fire.id}", message_thread_id=first_thread
    )
    await app.settle(timeout=30)

    second_id, second_thread, second_card = await incident_with_card(
        app, reference="I-20261122-0043"
    )
    second, _ = await open_and_invite(app, second_id, second_thread, second_card)
    await app.settle()
    notice = await app.client.wait_for_message(
        staff_chat, message_thread_id=second_thread, contains="초대를 보냈습니다"
    )
    text = str(notice.get("text"))
    assert "초대하지 않은 전문가" in text and "한지훈" in text and "I-20261122-0042" in text
    assert f"#{joined.expert_id}" in text and "/invite" in text
    invitations = [
        m for m in await app.client.messages(fire.id) if "비상 커뮤니티 초대" in str(m.get("text"))
    ]
    assert len(invitations) == 1  # the first community's only
    assert fire.id not in {m.telegram_user_id for m in await members_of(app, second.id or 0)}
