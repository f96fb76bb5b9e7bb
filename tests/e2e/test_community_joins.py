"""Join requests to the hub: the decision commits before Telegram is asked to approve, and a
decision whose worker died before the call (or after it, before recording it) is finished by the
community sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.hub_admin import sweep_communities
from bot.middlewares.database import write_gate
from community.joins import LEASE
from storage.models.communities import HubJoinRequest
from tests.e2e.community_helpers import (
    incident_with_card,
    links_in,
    members_of,
    open_and_invite,
    seed,
)
from tests.e2e.conftest import E2E


async def _invited(app: E2E) -> tuple[int, int, str]:
    """Open the fire community and invite; return the staff topic, the community, the link."""
    await seed(app)
    await app.settle()
    incident_id, thread_id, card_id = await incident_with_card(app)
    community, _ = await open_and_invite(app, incident_id, thread_id, card_id)
    fire = app.world.person("한지훈")
    [link] = links_in(await app.client.wait_for_message(fire.id, contains="비상 커뮤니티 초대"))
    assert community.id is not None
    return thread_id, community.id, link


async def _requests(app: E2E, user_id: int) -> list[HubJoinRequest]:
    async with app.runtime.session_factory() as session:
        statement = (
            select(HubJoinRequest)
            .where(col(HubJoinRequest.telegram_user_id) == user_id)
            .order_by(col(HubJoinRequest.id))
        )
        return list((await session.exec(statement)).all())


async def _pending_at_telegram(app: E2E) -> set[int]:
    chat = await app.client.chat(app.world.experts_hub_id)
    return {int(r["user"]["id"]) for r in chat["join_requests"]}


async def _status(app: E2E, community_id: int, user_id: int) -> str:
    [member] = [m for m in await members_of(app, community_id) if m.telegram_user_id == user_id]
    return member.status


async def test_the_approval_decision_commits_before_telegram_answers(app: E2E) -> None:
    """While Telegram is slow to approve, the decision is already committed (seen from another
    transaction) and the write turn is free; the expert is let in and both sides are told, in
    the usual words and order, once Telegram answers."""
    thread_id, community_id, link = await _invited(app)
    fire, hub = app.world.person("한지훈"), app.world.experts_hub_id
    await app.client.fault("slow", method="approveChatJoinRequest", delay=6.0)
    await app.client.join_request(fire.id, link)
    async with asyncio.timeout(30):
        while True:  # the update's own transaction, seen from another one
            requests = await _requests(app, fire.id)
            if requests:
                break
            await asyncio.sleep(0.05)
    [request] = requests
    assert (request.approve, request.state) == (True, "pending")
    # Committed while the approval is still on its way: not called inside the transaction.
    assert (await app.client.member(hub, fire.id))["status"] == "left"
    assert fire.id in await _pending_at_telegram(app)
    factory = app.runtime.session_factory
    async with asyncio.timeout(2):  # the write turn is free while Telegram thinks
        async with write_gate(factory), factory() as session, session.begin():
            await session.get(HubJoinRequest, request.id)
    await app.settle(timeout=30)
    assert (await app.client.member(hub, fire.id))["status"] == "member"
    assert await _status(app, community_id, fire.id) == "joined"
    assert [r.state for r in await _requests(app, fire.id)] == ["approved"]
    await app.client.wait_for_message(fire.id, contains="참여가 승인되었습니다")
    await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=thread_id, contains="한지훈"
    )


async def test_a_decision_whose_worker_died_is_answered_by_the_sweep(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker committed the approval and died before calling Telegram: the request stays
    pending at Telegram and in the database; the next community sweep approves it, records the
    joining and tells the expert and the staff topic."""
    thread_id, community_id, link = await _invited(app)
    fire, hub = app.world.person("한지훈"), app.world.experts_hub_id
    work = app.runtime.hub_work
    monkeypatch.setattr(work, "answer_join_after_commit", lambda *args, **kwargs: None)
    await app.client.join_request(fire.id, link)
    await app.settle()
    assert [r.state for r in await _requests(app, fire.id)] == ["pending"]
    assert fire.id in await _pending_at_telegram(app)
    assert await _status(app, community_id, fire.id) == "invited"
    monkeypatch.undo()

    await sweep_communities(
        bot=app.runtime.bot,
        session_factory=app.runtime.session_factory,
        settings=app.settings,
        now=app.clock.now(),
    )
    await app.settle()
    assert (await app.client.member(hub, fire.id))["status"] == "member"
    assert await _status(app, community_id, fire.id) == "joined"
    assert [r.state for r in await _requests(app, fire.id)] == ["approved"]
    await app.client.wait_for_message(fire.id, contains="참여가 승인되었습니다")
    await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=thread_id, contains="한지훈"
    )
    members = {m.telegram_user_id: m for m in await members_of(app, community_id)}
    assert members[fire.id].link_revoked


async def test_a_request_withdrawn_before_the_sweep_is_recorded_gone(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision left unanswered whose request Telegram no longer holds (the owner answered
    it by hand, declining) is recorded as gone at the sweep, not retried at every sweep."""
    _, community_id, link = await _invited(app)
    fire, hub = app.world.person("한지훈"), app.world.experts_hub_id
    monkeypatch.setattr(app.runtime.hub_work, "answer_join_after_commit", lambda *a, **k: None)
    await app.client.join_request(fire.id, link)
    await app.settle()
    monkeypatch.undo()
    await app.client.resolve_join_request(hub, fire.id, approve=False)
    await app.settle()
    for _ in range(2):
        await sweep_communities(
            bot=app.runtime.bot,
            session_factory=app.runtime.session_factory,
            settings=app.settings,
            now=app.clock.now(),
        )
    await app.settle()
    assert [r.state for r in await _requests(app, fire.id)] == ["gone"]
    assert await _status(app, community_id, fire.id) == "invited"


async def test_a_decline_whose_worker_died_before_recording_it_is_told_by_the_sweep(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker declined a stranger's request at Telegram and died before recording it: the
    sweep finds the request gone, records the decline and sends the stranger its reason, once,
    though two sweeps race for it."""
    _, _, link = await _invited(app)
    stranger = await app.citizen("낯선이")
    hub = app.world.experts_hub_id
    monkeypatch.setattr(app.runtime.hub_work, "answer_join_after_commit", lambda *a, **k: None)
    await app.client.join_request(stranger.id, link)
    await app.settle()
    monkeypatch.undo()
    [request] = await _requests(app, stranger.id)
    assert (request.approve, request.reason, request.state) == (False, "not_registered", "pending")
    async with app.runtime.session_factory() as session, session.begin():
        dead = await session.get(HubJoinRequest, request.id)
        assert dead is not None
        dead.claimed_at = app.clock.now()  # the dead worker's claim, then its call:
    await app.client.resolve_join_request(hub, stranger.id, approve=False)
    assert stranger.id not in await _pending_at_telegram(app)

    app.clock.advance(LEASE + timedelta(seconds=1))
    await asyncio.gather(
        *(
            sweep_communities(
                bot=app.runtime.bot,
                session_factory=app.runtime.session_factory,
                settings=app.settings,
                now=app.clock.now(),
            )
            for _ in range(2)
        )
    )
    await app.settle()
    assert [r.state for r in await _requests(app, stranger.id)] == ["declined"]
    told = [
        m
        for m in await app.client.messages(stranger.id)
        if "등록된 전문가가 아닙니다" in m.get("text", "")
    ]
    assert len(told) == 1


async def test_joining_through_one_invitation_joins_the_other_open_communities_too(
    app: E2E,
) -> None:
    """An expert invited to two communities who joins through one is in the other's topic too:
    that staff topic is told, the expert gets its topic link, its unused link is revoked."""
    await seed(app)
    await app.settle()
    fire, hub = app.world.person("한지훈"), app.world.experts_hub_id
    first_id, first_thread, first_card = await incident_with_card(app)
    first, _ = await open_and_invite(app, first_id, first_thread, first_card)
    await app.settle()
    second_id, second_thread, second_card = await incident_with_card(
        app, reference="I-20261122-0043"
    )
    second, _ = await open_and_invite(app, second_id, second_thread, second_card)
    await app.settle()
    invitation = await app.client.wait_for_message(fire.id, contains="I-20261122-0043")
    [second_link] = links_in(invitation)
    await app.client.join_request(fire.id, second_link)
    await app.settle()
    assert (await app.client.member(hub, fire.id))["status"] == "member"
    assert first.id is not None and second.id is not None
    assert await _status(app, second.id, fire.id) == "joined"
    # He reads the first community's topic now: it counts him as joined, not as invited.
    [member] = [m for m in await members_of(app, first.id) if m.telegram_user_id == fire.id]
    assert member.status == "joined" and member.link_revoked
    links = {
        link["invite_link"]: link for link in (await app.client.chat(hub)).get("invite_links", [])
    }
    assert member.invite_link is not None and links[member.invite_link]["is_revoked"]
    await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=first_thread, contains="한지훈 님이 커뮤니티에"
    )
    approved = [
        str(m.get("text"))
        for m in await app.client.messages(fire.id)
        if "참여가 승인되었습니다" in str(m.get("text"))
    ]
    assert any("I-20261122-0042" in text for text in approved), approved
