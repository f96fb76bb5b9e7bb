"""The hub port against the sandbox: rights check, and pin, delete, remove by replying."""

from __future__ import annotations

from bot.hub_admin import BotHubAdmin
from tests.e2e.community_helpers import (
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
