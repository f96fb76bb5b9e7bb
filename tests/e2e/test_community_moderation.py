"""Moderation from the staff topic: mute and unmute by user id, decisions in the summary;
a caption in the hub is never a command."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.hub_admin import sweep_communities
from community.lifecycle import on_incident_closed
from sandbox.client import SandboxError
from sandbox.images import tiny_png
from storage.communities import get_member
from storage.models.communities import CommunityMember
from storage.models.incidents import Incident, IncidentStatus
from tests.e2e.community_helpers import (
    community_of,
    incident_with_card,
    join_with_invitation,
    open_and_invite,
    seed,
    transcript_of,
)
from tests.e2e.conftest import E2E


async def test_moderate_from_the_staff_topic(app: E2E) -> None:
    """Staff mute and unmute a member by id, record a decision and close from the staff topic."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)

    async def staff_says(text: str) -> None:
        await app.client.send_text(lead.id, staff_chat, text, message_thread_id=thread_id)
        await app.settle(timeout=30)

    await staff_says(f"/mute {fire.id}")
    with pytest.raises(SandboxError):
        await app.client.send_text(fire.id, hub, "들리나요?", message_thread_id=community.topic_id)
    await staff_says(f"/unmute {fire.id}")
    await app.client.send_text(fire.id, hub, "다시 됩니다", message_thread_id=community.topic_id)
    await staff_says("/decision 3층 진입 중지, 외부 방수로 전환")
    await staff_says("/closecommunity")
    summary = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="커뮤니티 요약"
    )
    assert "3층 진입 중지" in str(summary.get("text"))
    assert (await community_of(app, incident_id)).state == "closed"


async def test_a_photo_captioned_like_a_command_in_the_hub_is_kept_not_run(app: E2E) -> None:
    """Commands count in text only: a staff photo captioned "/mute ID" goes to the transcript."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    hub = app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)

    photo = await app.client.send_photo(
        lead.id, hub, tiny_png(), caption=f"/mute {fire.id}", message_thread_id=community.topic_id
    )
    await app.settle(timeout=30)
    await app.client.send_text(fire.id, hub, "들리나요?", message_thread_id=community.topic_id)
    stored = {m.message_id: m for m in await transcript_of(app, community.id or 0)}
    assert stored[photo["message_id"]].kind == "photo"
    assert stored[photo["message_id"]].text == f"/mute {fire.id}"


async def test_an_expert_writing_a_command_in_the_hub_is_kept_not_run(app: E2E) -> None:
    """Only staff moderate: an expert's "/close" or "/decision ..." is kept as talk."""
    await seed(app)
    await app.settle()
    fire = app.world.person("한지훈")
    hub = app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)

    said = [
        await app.client.send_text(fire.id, hub, text, message_thread_id=community.topic_id)
        for text in ("/decision 2층 대피 완료로 봅니다", "/close")
    ]
    await app.settle(timeout=30)
    stored = {m.message_id: m for m in await transcript_of(app, community.id or 0)}
    for message in said:
        entry = stored[message["message_id"]]
        assert entry.author_id == fire.id and entry.text == message["text"]
        assert not entry.decision
    assert (await community_of(app, incident_id)).state == "open"


async def test_pin_and_delete_by_id_touch_only_the_topic_community(app: E2E) -> None:
    """From the staff topic, /pin and /del take messages of this community only, and say so."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    community = await community_of(app, incident_id)
    other = await app.client.create_topic(hub, "다른 커뮤니티", user_id=lead.id)
    elsewhere = await app.client.send_text(
        lead.id, hub, "다른 토픽의 메시지", message_thread_id=int(other["message_thread_id"])
    )
    for command in ("/pin", "/del"):
        await app.client.send_text(
            lead.id,
            staff_chat,
            f"{command} {elsewhere['message_id']}",
            message_thread_id=thread_id,
        )
        await app.settle(timeout=30)
    answers = await app.client.messages(staff_chat, message_thread_id=thread_id)
    assert [str(m.get("text")) for m in answers].count("기록에 없는 메시지입니다.") == 2
    shown = await app.client.messages(hub, message_thread_id=int(other["message_thread_id"]))
    [kept] = [m for m in shown if m["message_id"] == elsewhere["message_id"]]
    assert not kept.get("pinned")
    assert community.state == "open"


async def test_an_edited_message_keeps_both_versions_in_the_transcript(app: E2E) -> None:
    """An expert's correction is recorded as an edit after the words it replaces."""
    await seed(app)
    await app.settle()
    fire = app.world.person("한지훈")
    hub = app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    said = await app.client.send_text(
        fire.id, hub, "요구조자 3층", message_thread_id=community.topic_id
    )
    await app.settle()
    await app.client.edit_text(fire.id, hub, int(said["message_id"]), "요구조자 2층 (정정)")
    await app.settle(timeout=30)
    stored = [(m.author_id, m.kind, m.text) for m in await transcript_of(app, community.id or 0)]
    assert stored[-2:] == [
        (fire.id, "text", "요구조자 3층"),
        (fire.id, "edit", "요구조자 2층 (정정)"),
    ]


async def test_closing_a_community_lifts_the_mutes_it_imposed(app: E2E) -> None:
    """A mute is hub-wide: once its community closes, the expert can write in the hub again."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    for command in (f"/mute {fire.id}", "/closecommunity"):
        await app.client.send_text(lead.id, staff_chat, command, message_thread_id=thread_id)
        await app.settle(timeout=30)
    assert (await community_of(app, incident_id)).state == "closed"
    assert (await app.client.member(hub, fire.id))["status"] == "member"
    await app.client.send_text(fire.id, hub, "다른 토픽에서 다시 말할 수 있습니다")


async def test_closing_commits_before_telegram_answers_the_unmute(app: E2E) -> None:
    """The unmute is called after the closing transaction commits, never inside it: while
    Telegram is slow to answer it, the community is already closed in the database (and the
    write turn free for other updates); the mute is lifted when Telegram answers."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    await app.client.send_text(lead.id, staff_chat, f"/mute {fire.id}", message_thread_id=thread_id)
    await app.settle(timeout=30)
    await app.client.fault("slow", method="restrictChatMember", delay=6.0)
    await app.client.send_text(lead.id, staff_chat, "/closecommunity", message_thread_id=thread_id)
    async with asyncio.timeout(30):
        while True:  # the closing's own transaction, seen from another one
            if (await community_of(app, incident_id)).state == "closed":
                break
            await asyncio.sleep(0.05)
    # Committed while the unmute is still on its way: it was not called inside the transaction.
    assert (await app.client.member(hub, fire.id))["status"] == "restricted"
    await app.settle(timeout=30)
    assert (await app.client.member(hub, fire.id))["status"] == "member"


async def test_the_sweep_lifts_the_mutes_of_a_community_its_incident_closed(app: E2E) -> None:
    """Closed with its incident (no messenger at hand), the community's mutes end at the sweep."""
    await seed(app)
    await app.settle()
    lead = app.world.person("최도윤")
    fire = app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    await app.client.send_text(lead.id, staff_chat, f"/mute {fire.id}", message_thread_id=thread_id)
    await app.settle(timeout=30)
    async with app.runtime.session_factory() as session, session.begin():
        incident = await session.get(Incident, incident_id)
        assert incident is not None
        incident.status = IncidentStatus.CLOSED
        session.add(incident)
        await on_incident_closed(session=session, incident_id=incident_id, now=app.clock.now())
    assert (await app.client.member(hub, fire.id))["status"] == "restricted"
    await sweep_communities(
        bot=app.runtime.bot,
        session_factory=app.runtime.session_factory,
        settings=app.settings,
        now=app.clock.now(),
    )
    assert (await app.client.member(hub, fire.id))["status"] == "member"


async def _fire_joined(app: E2E) -> tuple[int, int, int]:
    """Open the fire community and let the fire expert in; return incident, topic, community."""
    await seed(app)
    await app.settle()
    fire = app.world.person("한지훈")
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    await join_with_invitation(app, fire.id)
    return incident_id, thread_id, community.id or 0


async def _fire_member(app: E2E, community_id: int) -> CommunityMember:
    fire = app.world.person("한지훈")
    async with app.runtime.session_factory() as session:
        member = await get_member(
            session=session, community_id=community_id, telegram_user_id=fire.id
        )
        assert member is not None
        return member


@pytest.mark.parametrize(
    ("command", "method", "stored", "status"),
    [
        ("mute", "restrictChatMember", lambda m: m.muted, "restricted"),
        ("remove", "banChatMember", lambda m: m.status == "removed", "left"),
    ],
)
async def test_a_member_action_commits_before_telegram_answers(
    app: E2E, command: str, method: str, stored: Any, status: str
) -> None:
    """/mute and /remove are stored and committed before Telegram is called: while Telegram is
    slow to answer, the decision is already visible from another transaction (and the write
    turn free); the hub changes and the staff topic hears "done" once Telegram answers."""
    _, thread_id, community_id = await _fire_joined(app)
    lead, fire = app.world.person("최도윤"), app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    await app.client.fault("slow", method=method, delay=6.0)
    await app.client.send_text(
        lead.id, staff_chat, f"/{command} {fire.id}", message_thread_id=thread_id
    )
    async with asyncio.timeout(30):
        while True:  # the command's own transaction, seen from another one
            if stored(await _fire_member(app, community_id)):
                break
            await asyncio.sleep(0.05)
    assert (await app.client.member(hub, fire.id))["status"] == "member"  # not called yet
    await app.settle(timeout=30)
    assert (await app.client.member(hub, fire.id))["status"] == status
    await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="처리했습니다"
    )


@pytest.mark.parametrize(
    ("command", "method"), [("mute", "restrictChatMember"), ("remove", "banChatMember")]
)
async def test_a_member_action_telegram_refuses_is_told_and_taken_back(
    app: E2E, command: str, method: str
) -> None:
    """When Telegram refuses /mute or /remove, the staff topic gets Telegram's answer and the
    stored decision is taken back (not muted, still joined): the database matches the hub."""
    _, thread_id, community_id = await _fire_joined(app)
    lead, fire = app.world.person("최도윤"), app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    await app.client.fault("5xx", method=method, status=400)
    await app.client.send_text(
        lead.id, staff_chat, f"/{command} {fire.id}", message_thread_id=thread_id
    )
    await app.settle(timeout=30)
    told = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="거절해 처리하지 못했습니다"
    )
    assert "한지훈" in str(told.get("text"))
    member = await _fire_member(app, community_id)
    assert (member.muted, member.status) == (False, "joined")
    assert (await app.client.member(hub, fire.id))["status"] == "member"


async def test_a_deletion_commits_before_telegram_answers_and_a_refusal_is_told(
    app: E2E,
) -> None:
    """/del MSG marks the transcript and commits before Telegram deletes; a refused deletion
    takes the mark back and is told in the staff topic."""
    incident_id, thread_id, community_id = await _fire_joined(app)
    lead, fire = app.world.person("최도윤"), app.world.person("한지훈")
    staff_chat, hub = app.world.staff_chat_id, app.world.experts_hub_id
    topic = (await community_of(app, incident_id)).topic_id
    spam = await app.client.send_text(fire.id, hub, "광고입니다", message_thread_id=topic)
    keep = await app.client.send_text(
        fire.id, hub, "현장 사진 곧 올립니다", message_thread_id=topic
    )
    await app.settle()

    async def deleted(message_id: int) -> bool:
        stored = {m.message_id: m for m in await transcript_of(app, community_id)}
        return stored[message_id].deleted

    await app.client.fault("slow", method="deleteMessage", delay=6.0)
    await app.client.send_text(
        lead.id, staff_chat, f"/del {spam['message_id']}", message_thread_id=thread_id
    )
    async with asyncio.timeout(30):
        while True:  # the command's own transaction, seen from another one
            if await deleted(int(spam["message_id"])):
                break
            await asyncio.sleep(0.05)
    shown = {m["message_id"] for m in await app.client.messages(hub, message_thread_id=topic)}
    assert spam["message_id"] in shown  # committed, Telegram not answered yet
    await app.settle(timeout=30)
    shown = {m["message_id"] for m in await app.client.messages(hub, message_thread_id=topic)}
    assert spam["message_id"] not in shown

    await app.client.fault("5xx", method="deleteMessage", status=400)
    await app.client.send_text(
        lead.id, staff_chat, f"/del {keep['message_id']}", message_thread_id=thread_id
    )
    await app.settle(timeout=30)
    told = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="거절해 처리하지 못했습니다"
    )
    assert str(keep["message_id"]) in str(told.get("text"))
    assert not await deleted(int(keep["message_id"]))
