"""Quiet expiry (warning first, then close) and reopening, through the sandbox."""

from __future__ import annotations

from datetime import timedelta

from bot.hub_admin import sweep_communities
from tests.e2e.citizen_helpers import all_incidents
from tests.e2e.community_helpers import (
    community_of,
    incident_with_card,
    join_with_invitation,
    links_in,
    open_and_invite,
    seed,
)
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import card, report_fire, topics


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


async def test_staff_closing_the_incident_revokes_links_and_lifts_mutes_at_once(app: E2E) -> None:
    """/close in the incident topic (or the card's close button) closes the community with its
    hub work done at once: the unused links revoked, a muted expert free in the hub again,
    before any sweep."""
    await seed(app)
    await app.settle()
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    lead, fire, structural = (
        app.world.person("최도윤"),
        app.world.person("한지훈"),
        app.world.person("오수빈"),
    )
    shown = await card(app, thread)
    (incident,) = await all_incidents(app)
    assert incident.id is not None
    await open_and_invite(app, incident.id, thread, int(shown["message_id"]))
    await app.settle()
    await join_with_invitation(app, fire.id)
    [unused] = links_in(
        await app.client.wait_for_message(structural.id, contains="비상 커뮤니티 초대")
    )
    await app.client.send_text(lead.id, staff_chat, f"/mute {fire.id}", message_thread_id=thread)
    await app.settle()
    assert (await app.client.member(hub, fire.id))["status"] == "restricted"

    await app.client.send_text(lead.id, staff_chat, "/close 진화 완료", message_thread_id=thread)
    await app.settle()
    assert (await community_of(app, incident.id)).state == "closed"
    links = {link["invite_link"]: link for link in (await app.client.chat(hub))["invite_links"]}
    assert links[unused]["is_revoked"]
    assert (await app.client.member(hub, fire.id))["status"] == "member"
