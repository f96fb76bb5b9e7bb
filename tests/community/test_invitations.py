"""Invitations reach matching verified experts; only they get through the join request."""

from __future__ import annotations

import pytest

from community.errors import CommunityError
from community.invitations import invite_one, send_invitations
from storage.communities import get_member
from storage.models.communities import MemberStatus
from tests.community.conftest import (
    HUB,
    STAFF,
    START,
    FakeHub,
    Steps,
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
    async with steps.tx() as session:
        report = await send_invitations(session=session, hub=hub, community=community, now=START)
        again = await send_invitations(session=session, hub=hub, community=community, now=START)
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


async def test_invite_one_and_hub_failures(steps: Steps, hub: FakeHub) -> None:
    """Staff can invite one verified expert outside the fields; unverified ones are refused."""
    outside = await steps.expert(71, ["marine"])
    unverified = await steps.expert(72, ["fire"], verified=False)
    community = await opened_community(steps, hub)
    async with steps.tx() as session:
        member = await invite_one(
            session=session, hub=hub, community=community, expert=outside, now=START
        )
        assert member.status == MemberStatus.INVITED and member.invite_link in hub.links
        with pytest.raises(CommunityError) as error:
            await invite_one(
                session=session, hub=hub, community=community, expert=unverified, now=START
            )
        assert error.value.code == "community_error_not_verified"
    hub.fail_links = True
    await steps.expert(73, ["fire"])
    async with steps.tx() as session:
        report = await send_invitations(session=session, hub=hub, community=community, now=START)
    assert [e.telegram_user_id for e, _ in report.failed] == [73]


async def test_leaving_the_hub_ends_joined_memberships(steps: Steps, hub: FakeHub) -> None:
    """Someone who leaves the hub is no longer counted as joined; removed stays removed."""
    from community.invitations import member_left

    await steps.expert(91, ["fire"])
    hub.members[91] = "member"
    community = await opened_community(steps, hub)
    async with steps.tx() as session:
        await send_invitations(session=session, hub=hub, community=community, now=START)
        assert await member_left(session=session, hub_chat_id=HUB, user_id=91, now=START) == 1
        assert await member_left(session=session, hub_chat_id=HUB, user_id=91, now=START) == 0
        assert community.id is not None
        member = await get_member(session=session, community_id=community.id, telegram_user_id=91)
    assert member is not None and member.status == MemberStatus.LEFT
