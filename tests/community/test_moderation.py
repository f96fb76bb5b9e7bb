"""Staff moderation changes the hub and is reflected in the transcript."""

from __future__ import annotations

import pytest

from community.errors import CommunityError
from community.hub_work import HubWork, carry_out, tidy, tidy_closed
from community.lifecycle import close_community, open_community
from community.moderation import (
    delete_message,
    mute,
    pin_message,
    record_decision,
    remove,
    set_readonly,
    unmute,
)
from community.transcript import export_text, record_message, summarise
from storage.communities import get_community, get_member
from storage.models.communities import Community, MemberStatus
from tests.community.conftest import HUB, STAFF, START, FakeHub, Steps, made


async def _community(steps: Steps, hub: FakeHub) -> Community:
    incident = await steps.incident("fire")
    assert incident.id is not None
    async with steps.tx() as session:
        opened = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=7,
            actor_name="lead",
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=None,
            now=START,
        )
    return await made(steps, hub, opened.community)


async def test_mute_unmute_remove(steps: Steps, hub: FakeHub, work: HubWork) -> None:
    """Mute restricts in the hub, unmute lifts it, remove takes the member out: each call is
    made once the deciding transaction has committed, and its outcome recorded after it."""
    community = await _community(steps, hub)
    assert community.id is not None
    hub.members[81] = "member"
    hub.members[82] = "administrator"
    for decide in (mute, unmute, remove):
        async with steps.tx() as session:
            action = await decide(
                session=session, community=community, user_id=81, now=START, name="a"
            )
            work.carry_out_after_commit(session, hub=hub, action=action)
            assert hub.members[81] != {"mute": "restricted", "remove": "left"}.get(action.kind)
        await work.wait()
        async with steps.tx() as session:
            member = await get_member(
                session=session, community_id=community.id, telegram_user_id=81
            )
            assert member is not None
            expected = {"mute": "restricted", "unmute": "member", "remove": "left"}
            assert hub.members[81] == expected[action.kind]
            assert member.muted == (action.kind == "mute")
    assert member.status == MemberStatus.REMOVED
    notices = await steps.texts(HUB)
    assert any("🔇" in text for text in notices) and any("🚪" in text for text in notices)


async def test_a_refused_mute_is_taken_back_and_told(
    steps: Steps, hub: FakeHub, work: HubWork
) -> None:
    """Telegram refuses to mute an administrator: the mute stored before the call is taken
    back, and the staff topic gets Telegram's answer."""
    community = await _community(steps, hub)
    assert community.id is not None
    hub.members[82] = "administrator"
    async with steps.tx() as session:
        action = await mute(session=session, community=community, user_id=82, now=START)
        work.carry_out_after_commit(session, hub=hub, action=action)
    await work.wait()
    async with steps.tx() as session:
        member = await get_member(session=session, community_id=community.id, telegram_user_id=82)
        assert member is not None and not member.muted
    told = await steps.texts(STAFF)
    assert any("administrator" in text and "거절" in text for text in told)


async def test_a_mute_that_lands_after_the_community_closed_is_lifted_by_the_sweep(
    steps: Steps, hub: FakeHub
) -> None:
    """The community closes (and its mutes are lifted) while a mute's call is on its way:
    the mute Telegram then enforces is stored again, so the sweep lifts it."""
    community = await _community(steps, hub)
    assert community.id is not None
    community_id = community.id
    hub.members[81] = "member"
    restrict = hub.restrict

    async def close_first(*, chat_id: int, user_id: int, can_send: bool) -> None:
        if not can_send:  # the mute's call: the close and its tidy overtake it
            hub.restrict = restrict  # type: ignore[method-assign]
            async with steps.tx() as session:
                found = await get_community(session=session, community_id=community_id)
                assert found is not None
                await close_community(
                    session=session, hub=None, community=found, now=START, actor_id=7, reason="x"
                )
            await tidy(hub=hub, session_factory=steps.session_factory, community_id=community_id)
        await restrict(chat_id=chat_id, user_id=user_id, can_send=can_send)

    async with steps.tx() as session:
        action = await mute(session=session, community=community, user_id=81, now=START)
    hub.restrict = close_first  # type: ignore[method-assign]
    assert await carry_out(hub=hub, session_factory=steps.session_factory, action=action)
    assert hub.members[81] == "restricted"  # Telegram enforces the late mute
    async with steps.tx() as session:
        member = await get_member(session=session, community_id=community_id, telegram_user_id=81)
        assert member is not None and member.muted  # ... and the row says so
    await tidy_closed(hub=hub, session_factory=steps.session_factory)
    assert hub.members[81] == "member"


async def test_delete_pin_readonly_and_decisions(steps: Steps, hub: FakeHub) -> None:
    """Deleted, pinned and decided messages are flagged in the transcript and the summary."""
    community = await _community(steps, hub)
    async with steps.tx() as session:
        for message_id, text in ((301, "spam"), (302, "대피 경로: 북측 계단"), (303, "배연 필요")):
            await record_message(
                session=session,
                community=community,
                message_id=message_id,
                author_id=90,
                author_name="expert",
                author_role="expert",
                kind="text",
                text=text,
                now=START,
            )
        deleting = await delete_message(session=session, community=community, message_id=301)
        await pin_message(session=session, community=community, message_id=302)
        await record_decision(
            session=session,
            community=community,
            now=START,
            actor_id=7,
            actor_name="lead",
            message_id=303,
        )
        await record_decision(
            session=session,
            community=community,
            now=START,
            actor_id=7,
            actor_name="lead",
            text="2차 대피 권고",
        )
        with pytest.raises(CommunityError):
            await record_decision(
                session=session,
                community=community,
                now=START,
                actor_id=7,
                actor_name="x",
                message_id=999,
            )
        await set_readonly(session=session, community=community, readonly=True)
        summary = await summarise(session=session, community=community, now=START)
        assert community.id is not None
        exported = await export_text(session=session, community_id=community.id)
    assert hub.deleted == []  # the call follows the commit
    assert await carry_out(hub=hub, session_factory=steps.session_factory, action=deleting)
    assert hub.deleted == [301]
    assert summary.decisions == ["배연 필요", "2차 대피 권고"]
    assert "대피 경로: 북측 계단" in summary.pinned
    assert "[deleted]: spam" in exported
    kinds = [row.kind for row in await steps.outbox(HUB)]
    assert kinds[-1] == "close_topic" and kinds.count("pin") == 2
