"""An expert community through the sandbox: open, invite, join, talk, mute, close."""

from __future__ import annotations

import pytest

from bot.hub_admin import BotHubAdmin
from community.lifecycle import on_incident_closed
from community.registry import Registration, register, verify
from sandbox.client import SandboxError
from storage.models.incidents import Incident, IncidentStatus
from tests.e2e.community_helpers import (
    community_of,
    incident_with_card,
    links_in,
    members_of,
    seed,
    transcript_of,
)
from tests.e2e.conftest import E2E


async def _open_and_invite(app: E2E) -> tuple[int, int, int]:
    """Open the community from the card and send the invitations; return ids."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat = app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    answer = await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    assert "I-20261122-0042" in str(answer.get("text"))
    await app.settle()
    community = await community_of(app, incident_id)
    assert community.topic_id is not None
    panel = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="전문가 커뮤니티"
    )
    await app.client.press_button(
        lead.id, staff_chat, int(panel["message_id"]), f"com:send:{community.id}"
    )
    await app.settle()
    assert community.id is not None
    return incident_id, community.id, community.topic_id


async def test_open_invite_and_approve_a_verified_fire_expert(app: E2E) -> None:
    """The hub gets a titled topic with the pinned brief; the fire expert is invited and let in."""
    _, community_id, topic_id = await _open_and_invite(app)
    hub = app.world.experts_hub_id
    topics = await app.client.topics(hub)
    assert any("I-20261122-0042" in str(t.get("name")) for t in topics)
    first = await app.client.messages(hub, message_thread_id=topic_id)
    brief = [m for m in first if "I-20261122-0042" in str(m.get("text"))]
    assert brief and brief[0].get("pinned")
    fire = app.world.person("한지훈")
    flood = app.world.person("윤태양")
    invitation = await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    [link] = links_in(invitation)
    result = await app.client.join_request(fire.id, link)
    assert result["status"] == "requested"
    await app.settle()
    assert (await app.client.member(hub, fire.id))["status"] == "member"
    await app.client.wait_for_message(fire.id, contains="참여가 승인되었습니다")
    members = {m.telegram_user_id: m for m in await members_of(app, community_id)}
    assert members[fire.id].status == "joined" and members[fire.id].link_revoked
    assert flood.id not in members  # a fire needs fire and structural experts, not hydrology
    with pytest.raises(SandboxError):
        await app.client.join_request(app.world.person("오수빈").id, link)  # revoked: single use


async def test_unverified_expert_is_declined_with_a_message(app: E2E) -> None:
    """A registered but unverified expert who asks to join is declined and told why."""
    await _open_and_invite(app)
    stranger = await app.client.create_user(first_name="미승인 전문가", language_code="ko")
    await app.client.start_bot(stranger["id"], app.token)
    async with app.runtime.session_factory() as session, session.begin():
        await register(
            session=session,
            telegram_user_id=int(stranger["id"]),
            registration=Registration(name="미승인 전문가", fields=["fire"]),
            now=app.clock.now(),
        )
    await app.settle()
    generic = await app.client.create_invite_link(
        app.world.experts_hub_id, creates_join_request=True
    )
    result = await app.client.join_request(stranger["id"], generic["invite_link"])
    assert result["status"] == "requested"
    await app.settle()
    declined = await app.client.wait_for_message(stranger["id"], contains="승인할 수 없습니다")
    assert "승인되지 않았습니다" in str(declined.get("text"))
    member = await app.client.member(app.world.experts_hub_id, stranger["id"])
    assert member["status"] in ("left", "kicked") or not member.get("is_member", False)


async def test_talk_mute_and_close(app: E2E) -> None:
    """Messages are stored; a muted member cannot write; closing the incident closes it all."""
    incident_id, community_id, topic_id = await _open_and_invite(app)
    hub = app.world.experts_hub_id
    fire = app.world.person("한지훈")
    lead = app.world.person("최도윤")
    invitation = await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    [link] = links_in(invitation)
    await app.client.join_request(fire.id, link)
    await app.settle()
    said = await app.client.send_text(
        fire.id, hub, "2층 배연 필요합니다", message_thread_id=topic_id
    )
    await app.client.send_text(lead.id, hub, "확인했습니다", message_thread_id=topic_id)
    await app.settle()
    stored = [(m.author_id, m.author_role, m.text) for m in await transcript_of(app, community_id)]
    assert (fire.id, "expert", "2층 배연 필요합니다") in stored
    assert (lead.id, "staff", "확인했습니다") in stored

    await app.client.send_text(
        lead.id,
        hub,
        "/mute",
        message_thread_id=topic_id,
        reply_to_message_id=int(said["message_id"]),
    )
    await app.settle()
    assert (await app.client.member(hub, fire.id))["status"] == "restricted"
    with pytest.raises(SandboxError):
        await app.client.send_text(fire.id, hub, "still here?", message_thread_id=topic_id)

    async with app.runtime.session_factory() as session, session.begin():
        incident = await session.get(Incident, incident_id)
        assert incident is not None
        incident.status = IncidentStatus.CLOSED
        session.add(incident)
        await on_incident_closed(
            session=session,
            incident_id=incident_id,
            now=app.clock.now(),
            hub=BotHubAdmin(app.runtime.bot),
            work=app.runtime.hub_work,  # the links are revoked once this commits
        )
    await app.settle()
    community = await community_of(app, incident_id)
    assert community.state == "closed"
    [topic] = [t for t in await app.client.topics(hub) if t["message_thread_id"] == topic_id]
    assert topic.get("is_closed")
    chat = await app.client.chat(hub)
    ours = [m.invite_link for m in await members_of(app, community_id) if m.invite_link]
    links = {link["invite_link"]: link for link in chat.get("invite_links", [])}
    assert ours and all(links[url]["is_revoked"] for url in ours)
    summary = await app.client.wait_for_message(
        app.world.staff_chat_id,
        message_thread_id=community.staff_thread_id,
        contains="커뮤니티 요약",
    )
    assert "한지훈" in str(summary.get("text")) and "최도윤" in str(summary.get("text"))


async def test_a_rejected_expert_is_told_the_registration_was_not_accepted(app: E2E) -> None:
    """A lead rejected the registration: the decline says so, not "wait for a lead"."""
    await _open_and_invite(app)
    rejected = await app.client.create_user(first_name="반려 전문가", language_code="ko")
    uid = int(rejected["id"])
    await app.client.start_bot(uid, app.token)
    async with app.runtime.session_factory() as session, session.begin():
        expert = await register(
            session=session,
            telegram_user_id=uid,
            registration=Registration(name="반려 전문가", fields=["fire"]),
            now=app.clock.now(),
        )
        assert expert.id is not None
        await verify(
            session=session,
            expert_id=expert.id,
            verifier_id=app.world.person("최도윤").id,
            approve=False,
            now=app.clock.now(),
        )
    await app.settle()
    generic = await app.client.create_invite_link(
        app.world.experts_hub_id, creates_join_request=True
    )
    await app.client.join_request(uid, generic["invite_link"])
    await app.settle()
    declined = await app.client.wait_for_message(uid, contains="승인할 수 없습니다")
    assert "등록이 받아들여지지 않았습니다" in str(declined.get("text"))
    assert "기다려" not in str(declined.get("text"))
