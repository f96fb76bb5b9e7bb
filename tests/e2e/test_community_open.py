"""Opening a community and inviting experts: the decision commits before Telegram is asked for
the topic, the hub check or the links; what a dead worker left "being prepared" the sweep makes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.hub_admin import sweep_communities
from bot.middlewares.database import write_gate
from storage.experts import get_expert_by_user
from storage.models.communities import Community, CommunityMember
from tests.e2e.community_helpers import (
    community_of,
    incident_with_card,
    links_in,
    members_of,
    seed,
)
from tests.e2e.conftest import E2E


async def _seen(probe: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``probe`` sees the state it looks for (from its own transaction)."""
    async with asyncio.timeout(30):
        while True:
            if await probe():
                return
            await asyncio.sleep(0.05)


async def _write_turn_is_free(app: E2E) -> None:
    """Take the bot's write turn and write nothing: it must not wait for Telegram's answer."""
    factory = app.runtime.session_factory
    async with asyncio.timeout(2):
        async with write_gate(factory), factory() as session, session.begin():
            await session.get(Community, 1)


async def _opened(app: E2E) -> tuple[int, int, Community]:
    """Open the fire community from its card; return the incident, its staff topic and it."""
    await seed(app)
    await app.settle()
    incident_id, thread_id, card_id = await incident_with_card(app)
    lead, staff_chat = app.world.person("최도윤"), app.world.staff_chat_id
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    return incident_id, thread_id, await community_of(app, incident_id)


async def _press_send(app: E2E, thread_id: int, community: Community) -> None:
    lead, staff_chat = app.world.person("최도윤"), app.world.staff_chat_id
    panel = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="전문가 커뮤니티"
    )
    await app.client.press_button(
        lead.id, staff_chat, int(panel["message_id"]), f"com:send:{community.id}"
    )


async def test_the_opening_commits_before_the_topic_is_created(app: E2E) -> None:
    """While Telegram is slow to create the hub topic, the community is already committed
    (seen from another transaction, no topic yet) and the write turn is free; the topic, the
    pinned brief and the staff panel follow once Telegram answers."""
    await seed(app)
    await app.settle()
    incident_id, thread_id, card_id = await incident_with_card(app)
    lead, staff_chat, hub = (
        app.world.person("최도윤"),
        app.world.staff_chat_id,
        app.world.experts_hub_id,
    )
    topics_before = len(await app.client.topics(hub))
    await app.client.fault("slow", method="createForumTopic", delay=6.0)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")

    async def stored() -> bool:
        async with app.runtime.session_factory() as session:
            found = (
                await session.exec(select(Community).where(Community.incident_id == incident_id))
            ).first()
        return found is not None

    await _seen(stored)
    community = await community_of(app, incident_id)
    assert community.topic_id is None  # committed while the topic is still on its way
    assert len(await app.client.topics(hub)) == topics_before
    await _write_turn_is_free(app)
    await app.settle(timeout=30)
    community = await community_of(app, incident_id)
    assert community.topic_id is not None
    shown = await app.client.messages(hub, message_thread_id=community.topic_id)
    assert any("I-20261122-0042" in str(m.get("text")) for m in shown)
    await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="전문가 커뮤니티"
    )


async def test_the_invitations_commit_before_the_links_are_made(app: E2E) -> None:
    """While Telegram is slow to make the invite link, the round is committed: the expert's
    membership is "preparing" (no link, not counted as invited) and the write turn is free;
    the invitation and the staff report follow in the usual words."""
    _, thread_id, community = await _opened(app)
    fire = app.world.person("한지훈")
    await app.client.fault("slow", method="createChatInviteLink", delay=6.0)
    await _press_send(app, thread_id, community)
    assert community.id is not None

    async def preparing() -> bool:
        members = await members_of(app, community.id or 0)
        return any(m.telegram_user_id == fire.id for m in members)

    await _seen(preparing)
    [member] = [m for m in await members_of(app, community.id) if m.telegram_user_id == fire.id]
    assert (member.status, member.invite_link) == ("preparing", None)
    await _write_turn_is_free(app)
    await app.settle(timeout=30)
    invitation = await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    [link] = links_in(invitation)
    [member] = [m for m in await members_of(app, community.id) if m.telegram_user_id == fire.id]
    assert (member.status, member.invite_link) == ("invited", link)
    report = await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=thread_id, contains="초대를 보냈습니다"
    )
    assert "한지훈" in str(report.get("text"))


async def test_invite_one_answers_after_the_link_is_made(app: E2E) -> None:
    """``/invite ID`` in the staff topic commits the decision first; "invited" comes once
    Telegram has made the link, and Telegram's refusal is told there instead."""
    _, thread_id, community = await _opened(app)
    lead, staff_chat = app.world.person("최도윤"), app.world.staff_chat_id
    flood = app.world.person("윤태양")  # not a fire field: invited by hand only
    expert_id = await _expert_id(app, flood.id)
    await app.client.fault("slow", method="createChatInviteLink", delay=6.0)
    await app.client.send_text(
        lead.id, staff_chat, f"/invite {expert_id}", message_thread_id=thread_id
    )

    async def preparing() -> bool:
        return any(m.telegram_user_id == flood.id for m in await members_of(app, community.id or 0))

    await _seen(preparing)
    [member] = [
        m for m in await members_of(app, community.id or 0) if m.telegram_user_id == flood.id
    ]
    assert (member.status, member.invite_link) == ("preparing", None)  # the link is on its way
    await _write_turn_is_free(app)
    await app.settle(timeout=30)
    await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="윤태양 님을 초대했습니다"
    )
    await app.client.wait_for_message(flood.id, contains="비상 커뮤니티 초대")

    await app.client.fault("5xx", method="createChatInviteLink", status=502)
    await app.client.send_text(
        lead.id, staff_chat, f"/invite {expert_id}", message_thread_id=thread_id
    )
    await app.settle(timeout=30)
    await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="텔레그램이 요청을 거절했습니다"
    )
    [member] = [
        m for m in await members_of(app, community.id or 0) if m.telegram_user_id == flood.id
    ]
    assert member.status == "invited"  # the earlier invitation stands


async def _expert_id(app: E2E, user_id: int) -> int:
    async with app.runtime.session_factory() as session:
        expert = await get_expert_by_user(session=session, telegram_user_id=user_id)
    assert expert is not None and expert.id is not None
    return expert.id


async def test_what_a_dead_worker_left_being_prepared_the_sweep_makes(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker committed the opening, then the invitations, and died before calling
    Telegram each time: the sweep makes the topic (brief and panel), then the links (the
    invitation and the staff report)."""
    await seed(app)
    await app.settle()
    incident_id, thread_id, card_id = await incident_with_card(app)
    lead, staff_chat, fire = (
        app.world.person("최도윤"),
        app.world.staff_chat_id,
        app.world.person("한지훈"),
    )
    work = app.runtime.hub_work
    monkeypatch.setattr(work, "open_after_commit", lambda *args, **kwargs: None)
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    assert (await community_of(app, incident_id)).topic_id is None

    async def sweep() -> None:
        app.clock.advance(timedelta(minutes=3))
        await sweep_communities(
            bot=app.runtime.bot,
            session_factory=app.runtime.session_factory,
            settings=app.settings,
            now=app.clock.now(),
        )
        await app.settle()

    await sweep()
    community = await community_of(app, incident_id)
    assert community.topic_id is not None
    monkeypatch.setattr(work, "invite_after_commit", lambda *args, **kwargs: None)
    await _press_send(app, thread_id, community)
    await app.settle()
    statuses = {m.telegram_user_id: m.status for m in await members_of(app, community.id or 0)}
    assert statuses[fire.id] == "preparing"
    await sweep()
    invitation = await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대")
    [link] = links_in(invitation)
    members = await members_of(app, community.id or 0)
    fire_member: CommunityMember = next(m for m in members if m.telegram_user_id == fire.id)
    assert (fire_member.status, fire_member.invite_link) == ("invited", link)
    await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="초대를 보냈습니다"
    )
