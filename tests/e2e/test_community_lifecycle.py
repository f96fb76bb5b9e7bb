"""Quiet expiry (warning first, then close) and reopening, through the sandbox."""

from __future__ import annotations

from datetime import timedelta

from bot.hub_admin import sweep_communities
from tests.e2e.community_helpers import community_of, incident_with_card, seed
from tests.e2e.conftest import E2E


async def test_quiet_community_is_warned_closed_and_reopened(app: E2E) -> None:
    """A silent community is warned, then closed with a summary; the card reopens it."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    community = await community_of(app, incident_id)
    topic_id = community.topic_id
    start = app.clock.now()

    async def sweep(hours: float) -> tuple[list[int], list[int]]:
        result = await sweep_communities(
            bot=app.runtime.bot,
            session_factory=app.runtime.session_factory,
            settings=app.settings,
            now=start + timedelta(hours=hours),
        )
        await app.settle(timeout=60)
        return result.warned, result.closed

    assert await sweep(1) == ([], [])
    assert await sweep(23.5) == ([community.id], [])
    await app.client.wait_for_message(hub, message_thread_id=topic_id, contains="자동으로 종료")
    assert await sweep(24.2) == ([], [])
    assert await sweep(24.6) == ([], [community.id])
    [topic] = [t for t in await app.client.topics(hub) if t["message_thread_id"] == topic_id]
    assert topic.get("is_closed")
    await app.client.wait_for_message(staff_chat, message_thread_id=thread_id, contains="무활동")

    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle(timeout=60)  # the sender keeps to Telegram's 20 messages a minute per group
    reopened = await community_of(app, incident_id)
    assert reopened.state == "open" and reopened.reopen_count == 1
    [topic] = [t for t in await app.client.topics(hub) if t["message_thread_id"] == topic_id]
    assert not topic.get("is_closed")
    messages = await app.client.messages(hub, message_thread_id=topic_id)
    assert any("다시 엽니다" in str(m.get("text")) for m in messages)
    assert sum(1 for m in messages if m.get("pinned")) >= 1
