"""Join requests: decided in the update's transaction, answered after it commits, finished by
the sweep when the worker died in between."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from community.joins import LEASE, answer_join_request, decide_join_request, finish_join_requests
from community.lifecycle import close_community
from community.ports import HubError
from situation.texts import render
from storage.communities import get_community, get_join_request, get_member
from storage.models.communities import Community, JoinAnswer, MemberStatus
from tests.community.conftest import (
    HUB,
    STAFF,
    START,
    FakeHub,
    Steps,
    invite_round,
    opened_community,
)


async def _decide(steps: Steps, user_id: int, link: str | None, lang: str = "ko") -> int:
    """The update's part: store the decision and commit, without calling Telegram."""
    async with steps.tx() as session:
        request = await decide_join_request(
            session=session, chat_id=HUB, user_id=user_id, invite_link=link, now=START, lang=lang
        )
    assert request.id is not None
    return request.id


async def _join(
    steps: Steps, hub: FakeHub, user_id: int, link: str | None, lang: str = "ko"
) -> str | None:
    """Decide, commit, then answer outside any transaction, like the bot does."""
    request_id = await _decide(steps, user_id, link, lang)
    return await answer_join_request(
        hub=hub, session_factory=steps.session_factory, request_id=request_id, now=START
    )


async def _invited(steps: Steps, hub: FakeHub) -> tuple[Community, str]:
    await steps.expert(41, ["fire"], name="한지훈")
    community = await opened_community(steps, hub)
    await invite_round(steps, hub, community)
    [link] = hub.links
    return community, link


async def _membership(steps: Steps, community: Community, user_id: int) -> MemberStatus | str:
    assert community.id is not None
    async with steps.tx() as session:
        member = await get_member(
            session=session, community_id=community.id, telegram_user_id=user_id
        )
    assert member is not None
    return member.status


async def test_join_request_approved_for_the_invited_expert(steps: Steps, hub: FakeHub) -> None:
    """The invited expert is approved, the link is revoked, both sides are told."""
    community, link = await _invited(steps, hub)
    assert await _join(steps, hub, 41, link) == JoinAnswer.APPROVED
    assert community.id is not None
    async with steps.tx() as session:
        member = await get_member(session=session, community_id=community.id, telegram_user_id=41)
    assert hub.approved == [41] and hub.links[link]
    assert member is not None and member.status == MemberStatus.JOINED and member.link_revoked
    assert "승인" in (await steps.texts(41))[-1]
    assert "한지훈" in (await steps.texts(STAFF))[-1]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [("stranger", "not_registered"), ("unverified", "not_verified"), ("uninvited", "not_invited")],
)
async def test_join_request_declined_with_a_reason(
    steps: Steps, hub: FakeHub, setup: str, reason: str
) -> None:
    """Anyone else is declined and told why."""
    if setup == "unverified":
        await steps.expert(51, ["fire"], verified=False)
    if setup == "uninvited":
        await steps.expert(51, ["marine"])
    await opened_community(steps, hub)
    request_id = await _decide(steps, 51, None, lang="en")
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id)
    assert request is not None and (request.approve, request.reason) == (False, reason)
    assert await steps.texts(51) == [] and hub.declined == []  # nothing before the commit
    await answer_join_request(
        hub=hub, session_factory=steps.session_factory, request_id=request_id, now=START
    )
    assert hub.declined == [51]
    assert (
        "declined" in (await steps.texts(51))[0]
        or "승인할 수 없습니다" in (await steps.texts(51))[0]
    )


async def test_someone_elses_link_and_closed_communities(steps: Steps, hub: FakeHub) -> None:
    """A link used by another expert, or after close, does not let them in."""
    await steps.expert(61, ["fire"])
    await steps.expert(62, ["marine"])
    community = await opened_community(steps, hub)
    await invite_round(steps, hub, community)
    [link] = hub.links
    assert await _join(steps, hub, 62, link) == JoinAnswer.DECLINED
    async with steps.tx() as session:
        assert community.id is not None
        fresh = await get_community(session=session, community_id=community.id)
        assert fresh is not None
        await close_community(
            session=session, hub=hub, community=fresh, now=START, actor_id=7, reason="staff"
        )
    late = await _decide(steps, 61, link)
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=late)
    assert request is not None and (request.approve, request.reason) == (False, "closed")
    assert hub.approved == []


async def test_a_decision_left_unanswered_is_answered_by_the_sweep(
    steps: Steps, hub: FakeHub
) -> None:
    """The worker died after committing the approval, before calling Telegram: the sweep
    approves, records the member as joined and tells both sides, once."""
    community, link = await _invited(steps, hub)
    await _decide(steps, 41, link)  # committed; the call never came
    assert hub.approved == [] and await _membership(steps, community, 41) == MemberStatus.INVITED
    assert await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=START)
    assert hub.approved == [41] and hub.links[link]
    assert await _membership(steps, community, 41) == MemberStatus.JOINED
    assert "승인" in (await steps.texts(41))[-1]
    assert not await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=START)
    assert hub.approved == [41]


async def test_a_decision_decided_again_when_answered_late(steps: Steps, hub: FakeHub) -> None:
    """An approval left unanswered until its community closed is answered with a decline."""
    community, link = await _invited(steps, hub)
    await _decide(steps, 41, link)
    async with steps.tx() as session:
        assert community.id is not None
        fresh = await get_community(session=session, community_id=community.id)
        assert fresh is not None
        await close_community(
            session=session, hub=hub, community=fresh, now=START, actor_id=7, reason="staff"
        )
    await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=START)
    assert (hub.approved, hub.declined) == ([], [41])


async def test_an_approval_made_before_the_worker_died_is_recorded(
    steps: Steps, hub: FakeHub
) -> None:
    """Telegram approved, the worker died before recording: the sweep's call finds the request
    gone and the expert in the hub, and records the joining with its notices."""
    community, link = await _invited(steps, hub)
    request_id = await _decide(steps, 41, link)
    await hub.approve_join_request(chat_id=HUB, user_id=41)  # the dead worker's call
    later = START + LEASE + timedelta(seconds=1)
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id)
        assert request is not None
        request.claimed_at = START  # claimed by the dead worker
        session.add(request)
    assert not await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=START)
    assert await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=later)
    assert await _membership(steps, community, 41) == MemberStatus.JOINED
    assert "승인" in (await steps.texts(41))[-1]


async def test_a_decline_made_before_the_worker_died_is_told_once(
    steps: Steps, hub: FakeHub
) -> None:
    """Telegram declined, the worker died before recording it: the sweep's call finds the
    request gone, records the decline and sends the applicant its reason, once, however many
    sweeps race for it."""
    await opened_community(steps, hub)
    request_id = await _decide(steps, 51, None, lang="en")
    await hub.decline_join_request(chat_id=HUB, user_id=51)  # the dead worker's call
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id)
        assert request is not None
        request.claimed_at = START  # claimed by the dead worker
        session.add(request)
    later = START + LEASE + timedelta(seconds=1)
    sweeps = [
        finish_join_requests(hub=hub, session_factory=steps.session_factory, now=later)
        for _ in range(2)
    ]
    assert sum(await asyncio.gather(*sweeps)) == 1
    assert not await finish_join_requests(
        hub=hub, session_factory=steps.session_factory, now=later + LEASE * 2
    )
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id)
    assert request is not None and request.state == JoinAnswer.DECLINED
    assert await steps.texts(51) == [render("en", "expert_join_declined", reason="not_registered")]
    assert hub.declined == [51]  # declined once, by the dead worker


async def test_a_request_telegram_no_longer_knows_is_gone_not_retried(
    steps: Steps, hub: FakeHub
) -> None:
    """Withdrawn before the answer: recorded as gone, nobody told, the invitation still open."""
    community, link = await _invited(steps, hub)
    hub.gone.add(41)
    assert await _join(steps, hub, 41, link) == JoinAnswer.GONE
    assert await _membership(steps, community, 41) == MemberStatus.INVITED
    assert len(await steps.texts(41)) == 1  # only the invitation
    assert not await finish_join_requests(hub=hub, session_factory=steps.session_factory, now=START)


async def test_a_refused_approval_is_told_and_the_invitation_kept(
    steps: Steps, hub: FakeHub
) -> None:
    """Telegram refuses the approval for good: the expert and staff are told, still invited."""
    community, link = await _invited(steps, hub)
    hub.refuse_joins = HubError("Bad Request: not enough rights")
    assert await _join(steps, hub, 41, link) == JoinAnswer.REFUSED
    assert await _membership(steps, community, 41) == MemberStatus.INVITED
    assert "not enough rights" in (await steps.texts(STAFF))[-1]
