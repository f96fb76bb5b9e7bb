"""Invitations reach matching verified experts; only they get through the join request."""

from __future__ import annotations

import pytest

from community.errors import CommunityError
from community.invitations import (
    PREPARING_LEASE,
    complete_invitations,
    finish_invitations,
    invite_one,
    send_invitations,
)
from storage.communities import get_member, members_of
from storage.models.communities import Community, MemberStatus
from storage.models.experts import Expert
from tests.community.conftest import (
    HUB,
    STAFF,
    START,
    FakeHub,
    Steps,
    invite_round,
    opened_community,
)


async def test_invites_matching_verified_available_experts(steps: Steps, hub: FakeHub) -> None:
    """Links go to outsiders, topic links to hub members; others are not invited."""
    await steps.expert(31, ["fire"], name="outsider")
    await steps.expert(32, ["structural"], name="insider", language="en")
    await steps.expert(33, ["fire"], verified=False)
    await steps.expert(34, ["fire"], available=False)
    await steps.expert(35, ["marine"])
    hub.members[32] = "member"
    community = await opened_community(steps, hub)
    report = await invite_round(steps, hub, community)
    again = await invite_round(steps, hub, community)
    assert [e.telegram_user_id for e in report.invited] == [31]
    assert [e.telegram_user_id for e in report.in_hub] == [32]
    assert again.total == 0
    [link] = hub.links
    assert link in (await steps.texts(31))[0]
    assert "https://t.me/c/1000000001/100" in (await steps.texts(32))[0]
    assert "Open the community" in (await steps.texts(32))[0]
    for user_id in (33, 34, 35):
        assert await steps.texts(user_id) == []
    assert "참여 요청 링크 1명, 허브 회원 1명" in (await steps.texts(STAFF))[-2]
    assert "참여 요청 링크 0명, 허브 회원 0명" in (await steps.texts(STAFF))[-1]


async def _invite_one(steps: Steps, hub: FakeHub, community: Community, expert: Expert) -> None:
    async with steps.tx() as session:
        chosen = await invite_one(session=session, community=community, expert=expert, now=START)
    await complete_invitations(hub=hub, session_factory=steps.session_factory, chosen=chosen)


async def test_invite_one_and_hub_failures(steps: Steps, hub: FakeHub) -> None:
    """Staff can invite one verified expert outside the fields; unverified ones are refused;
    a link Telegram refuses takes the "preparing" mark back and is reported."""
    outside = await steps.expert(71, ["marine"], name="바다")
    unverified = await steps.expert(72, ["fire"], verified=False)
    community = await opened_community(steps, hub)
    assert community.id is not None
    await _invite_one(steps, hub, community, outside)
    async with steps.tx() as session:
        member = await get_member(session=session, community_id=community.id, telegram_user_id=71)
        assert member is not None
        assert member.status == MemberStatus.INVITED and member.invite_link in hub.links
        with pytest.raises(CommunityError) as error:
            await invite_one(session=session, community=community, expert=unverified, now=START)
        assert error.value.code == "community_error_not_verified"
    assert "바다 님을 초대했습니다" in (await steps.texts(STAFF))[-1]
    hub.fail_links = True
    await steps.expert(73, ["fire"])
    report = await invite_round(steps, hub, community)
    assert [e.telegram_user_id for e, _ in report.failed] == [73]
    async with steps.tx() as session:
        assert (
            await get_member(session=session, community_id=community.id, telegram_user_id=73)
            is None
        )
    await _invite_one(steps, hub, community, outside)  # a refused new link: the old one stays
    assert "텔레그램이 요청을 거절했습니다" in (await steps.texts(STAFF))[-1]
    async with steps.tx() as session:
        member = await get_member(session=session, community_id=community.id, telegram_user_id=71)
        assert member is not None and member.status == MemberStatus.INVITED
        assert member.prepared_from is None


async def test_the_decision_makes_no_hub_call(steps: Steps, hub: FakeHub) -> None:
    """Deciding a round marks the memberships "preparing" (not invited, nothing sent, no link,
    no hub check); the calls and the invitations follow :func:`complete_invitations`."""
    await steps.expert(81, ["fire"])
    community = await opened_community(steps, hub)
    assert community.id is not None
    calls: list[str] = []
    original = hub.member_status

    async def watched(*, chat_id: int, user_id: int) -> str:
        calls.append("getChatMember")
        return await original(chat_id=chat_id, user_id=user_id)

    hub.member_status = watched  # type: ignore[method-assign]
    async with steps.tx() as session:
        chosen = await send_invitations(session=session, community=community, now=START)
        (member,) = await members_of(session=session, community_id=community.id)
        assert member.status == MemberStatus.PREPARING and member.invite_link is None
    assert calls == [] and hub.links == {} and await steps.texts(81) == []
    await complete_invitations(hub=hub, session_factory=steps.session_factory, chosen=chosen)
    assert calls == ["getChatMember"] and len(hub.links) == 1
    assert "비상 커뮤니티 초대" in (await steps.texts(81))[0]


async def test_a_round_left_preparing_is_completed_by_the_sweep(steps: Steps, hub: FakeHub) -> None:
    """The worker died after the decision committed: the sweep leaves a young decision to its
    worker, then completes an older one (one link, one invitation, one report)."""
    await steps.expert(82, ["fire"])
    community = await opened_community(steps, hub)
    async with steps.tx() as session:
        await send_invitations(session=session, community=community, now=START)
    factory = steps.session_factory
    assert await finish_invitations(hub=hub, session_factory=factory, now=START) == 0
    assert hub.links == {}
    later = START + PREPARING_LEASE
    assert await finish_invitations(hub=hub, session_factory=factory, now=later) == 1
    assert await finish_invitations(hub=hub, session_factory=factory, now=later) == 0
    assert len(hub.links) == 1 and len(await steps.texts(82)) == 1
    assert "참여 요청 링크 1명" in (await steps.texts(STAFF))[-1]


async def test_leaving_the_hub_ends_joined_memberships(steps: Steps, hub: FakeHub) -> None:
    """Someone who leaves the hub is no longer counted as joined; removed stays removed."""
    from community.invitations import member_left

    await steps.expert(91, ["fire"])
    hub.members[91] = "member"
    community = await opened_community(steps, hub)
    await invite_round(steps, hub, community)
    async with steps.tx() as session:
        assert await member_left(session=session, hub_chat_id=HUB, user_id=91, now=START) == 1
        assert await member_left(session=session, hub_chat_id=HUB, user_id=91, now=START) == 0
        assert community.id is not None
        member = await get_member(session=session, community_id=community.id, telegram_user_id=91)
    assert member is not None and member.status == MemberStatus.LEFT
