"""An incident reopened by a citizen's "no" after its expert community closed with it: staff
are offered to reopen the community, and its members are told when it is."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.citizen_helpers import all_incidents, bot_messages
from tests.e2e.community_helpers import community_of, join_with_invitation, seed
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    sweep,
    text_of,
    topics,
)


async def test_a_reopened_incident_offers_its_community_again(app: E2E) -> None:
    """The community closed with its incident; a citizen's "no" reopens the incident: the
    staff topic is told, with a button that reopens the community (same topic), and the
    expert who took part is told it is open again."""
    await seed(app)
    await app.settle()
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    lead, haeun, fire = (
        app.world.person("최도윤"),
        app.world.person("정하은"),
        app.world.person("한지훈"),
    )
    shown = await card(app, thread)
    await press(app, lead.id, shown, button_data(shown, "com:open:"))
    (incident,) = await all_incidents(app)
    assert incident.id is not None
    community = await community_of(app, incident.id)
    panel = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread, contains="전문가 커뮤니티"
    )
    await app.client.press_button(
        lead.id, staff_chat, int(panel["message_id"]), f"com:send:{community.id}"
    )
    await app.settle()
    await join_with_invitation(app, fire.id)
    assert (await app.client.member(hub, fire.id))["status"] == "member"

    await app.client.send_text(haeun.id, staff_chat, "/close resolved", message_thread_id=thread)
    await app.settle()
    assert (await community_of(app, incident.id)).state == "closed"
    app.clock.advance(timedelta(hours=2, minutes=1))
    await sweep(app)
    *_, question = [m for m in await bot_messages(app, citizen.id) if "안전하신가요" in text_of(m)]
    await app.client.press_button(
        citizen.id,
        citizen.id,
        int(question["message_id"]),
        button_data(question, "fu:").rsplit(":", 1)[0] + ":no",
    )
    await app.settle()

    notice = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread, contains="사건 종료와 함께 종료되었습니다"
    )
    assert (await community_of(app, incident.id)).state == "closed"  # staff decide
    await press(app, lead.id, notice, button_data(notice, "com:open:"))
    reopened = await community_of(app, incident.id)
    assert (reopened.state, reopened.reopen_count) == ("open", 1)
    assert reopened.topic_id == community.topic_id
    told = await app.client.wait_for_message(fire.id, contains="다시 열렸습니다")
    assert f"/{community.topic_id}" in str(told.get("entities"))
