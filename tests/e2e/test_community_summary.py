"""The summary staff read when a community closes: clean text, roles in the staff's language."""

from __future__ import annotations

from tests.e2e.community_helpers import (
    incident_with_card,
    join_with_invitation,
    open_and_invite,
    seed,
)
from tests.e2e.conftest import E2E


async def test_the_summary_shows_the_brief_as_text_and_names_roles(app: E2E) -> None:
    """The pinned brief is quoted without markup; participants' roles read in Korean."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    await app.client.send_text(fire.id, hub, "배연 필요", message_thread_id=community.topic_id)
    await app.client.send_text(lead.id, hub, "확인", message_thread_id=community.topic_id)
    await app.settle()
    await app.client.send_text(lead.id, staff_chat, "/closecommunity", message_thread_id=thread_id)
    await app.settle(timeout=30)
    summary = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="커뮤니티 요약"
    )
    text = str(summary.get("text"))
    assert "한지훈 (전문가, 1)" in text and "최도윤 (상황실, 1)" in text
    assert "🆘 🔥 I-20261122-0042 화재" in text
    assert "<b>" not in text and "&lt;" not in text
