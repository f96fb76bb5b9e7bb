"""Opening posts the pinned brief and the staff panel; closing revokes, thanks and summarises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.config import CommunityConfig
from community.errors import CommunityError
from community.hub_work import HubWork, tidy_closed
from community.lifecycle import (
    PREPARING_LEASE,
    brief_correlation,
    close_community,
    exclude_expert,
    finish_openings,
    on_incident_closed,
    on_incident_reopened,
    open_community,
    panel,
    prepare_topic,
    sweep_quiet,
    toggle_field,
)
from community.ports import HubError
from community.transcript import record_message
from storage.communities import get_community, members_of, save_member
from storage.models.communities import CommunityState
from storage.models.incidents import Incident, IncidentStatus
from tests.community.conftest import (
    HUB,
    STAFF,
    STAFF_TOPIC,
    START,
    FakeHub,
    Steps,
    invite_round,
    made,
)


async def _open(steps: Steps, hub: FakeHub, incident_id: int, role: str = "lead") -> int:
    async with steps.tx() as session:
        opened = await open_community(
            session=session,
            hub=hub,
            incident_id=incident_id,
            actor_id=7,
            actor_name="최도윤",
            role=role,
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=STAFF_TOPIC,
            now=START,
        )
    assert opened.created and opened.community.id is not None
    return (await made(steps, hub, opened.community)).id  # type: ignore[return-value]


async def test_open_posts_pinned_brief_and_panel(steps: Steps, hub: FakeHub) -> None:
    """The topic is titled with the incident; the brief is pinned; the panel suggests fields."""
    incident = await steps.incident(
        "fire", latitude=37.57, longitude=126.98, district_name="종로구"
    )
    assert incident.id is not None
    community_id = await _open(steps, hub, incident.id)
    assert list(hub.topics.values()) == ["🔥 I-20261122-0001 화재"]
    rows = await steps.outbox(HUB)
    assert [row.kind for row in rows] == ["text", "pin", "location"]
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        assert community.fields == ["fire", "structural"]
        assert rows[0].correlation == brief_correlation(community)
    assert rows[1].target_ref == rows[0].correlation
    assert "종로구" in rows[0].payload["text"]
    [panel_row] = await steps.outbox(STAFF)
    assert panel_row.thread_id == STAFF_TOPIC
    data = [b["data"] for row in panel_row.payload["buttons"] for b in row]
    assert f"com:send:{community_id}" in data and f"com:fld:{community_id}:marine" in data


async def test_only_leads_or_the_holder_open(steps: Steps, hub: FakeHub) -> None:
    """Staff who do not hold the incident may not open; the holder may."""
    incident = await steps.incident("fire", holder="8")
    assert incident.id is not None
    async with steps.tx() as session:
        with pytest.raises(CommunityError) as error:
            await open_community(
                session=session,
                hub=hub,
                incident_id=incident.id,
                actor_id=9,
                actor_name="x",
                role="staff",
                hub_chat_id=HUB,
                staff_chat_id=STAFF,
                staff_thread_id=None,
                now=START,
            )
    assert error.value.code == "community_error_not_allowed"
    async with steps.tx() as session:
        opened = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=8,
            actor_name="y",
            role="staff",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=None,
            now=START,
        )
    await made(steps, hub, opened.community)
    async with steps.tx() as session:
        again = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=8,
            actor_name="y",
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=None,
            now=START,
        )
    assert opened.created and not again.created and again.community.id == opened.community.id
    assert len(hub.topics) == 1


async def test_closed_incident_cannot_open(steps: Steps, hub: FakeHub) -> None:
    """A closed incident gets no community."""
    incident = await steps.incident("fire", status=IncidentStatus.CLOSED)
    assert incident.id is not None
    async with steps.tx() as session:
        with pytest.raises(CommunityError) as error:
            await open_community(
                session=session,
                hub=hub,
                incident_id=incident.id,
                actor_id=7,
                actor_name="x",
                role="lead",
                hub_chat_id=HUB,
                staff_chat_id=None,
                staff_thread_id=None,
                now=START,
            )
    assert error.value.code == "community_error_incident_closed"


async def test_fields_and_exclusions_shape_the_panel(steps: Steps, hub: FakeHub) -> None:
    """Toggling a field and excluding an expert change who would be invited."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    fire = await steps.expert(11, ["fire"], name="불전문")
    await steps.expert(12, ["marine"], name="바다전문")
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        text, _ = await panel(session=session, community=community, lang="en")
        assert "불전문" in text and "바다전문" not in text
        await toggle_field(session=session, community=community, field="marine")
        assert fire.id is not None
        await exclude_expert(session=session, community=community, expert_id=fire.id)
        text, _ = await panel(session=session, community=community, lang="en")
        assert "바다전문" in text and "불전문" not in text


async def test_close_revokes_thanks_and_summarises(
    steps: Steps, hub: FakeHub, work: HubWork
) -> None:
    """Closing thanks joined members and posts the summary to staff; once it has committed,
    the unused links are revoked."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    await steps.expert(21, ["fire"], name="참여자")
    await steps.expert(22, ["structural"], name="미참여")
    hub.members[21] = "member"
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
    await invite_round(steps, hub, community)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        await record_message(
            session=session,
            community=community,
            message_id=500,
            author_id=21,
            author_name="참여자",
            author_role="expert",
            kind="text",
            text="배연창 개방 권고",
            now=START + timedelta(minutes=5),
            decision=True,
        )
    assert list(hub.links.values()) == [False]
    async with steps.tx() as session:
        closed = await on_incident_closed(
            session=session,
            incident_id=incident.id,
            now=START + timedelta(hours=1),
            hub=hub,
            work=work,
        )
        assert closed is not None and closed.state == CommunityState.CLOSED
        assert closed.close_reason == "incident_closed"
        assert (
            await on_incident_closed(session=session, incident_id=incident.id, now=START, hub=hub)
            is None
        )
        assert list(hub.links.values()) == [False]  # no Telegram call inside the transaction
    await work.wait()
    assert list(hub.links.values()) == [True]
    hub_rows = await steps.outbox(HUB)
    assert hub_rows[-1].kind == "close_topic"
    assert any("감사" in text for text in await steps.texts(21))
    summary = (await steps.texts(STAFF))[-1]
    assert "참여자 (전문가, 1)" in summary and "배연창 개방 권고" in summary and "60분" in summary
    pinned_brief = summary.split("<b>고정 메시지</b>\n", 1)[1].split("\n", 1)[0]
    assert pinned_brief.startswith("• 🆘 ") and "&lt;" not in pinned_brief  # its words, no tags
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        with pytest.raises(CommunityError):
            await close_community(
                session=session,
                hub=hub,
                community=community,
                now=START,
                actor_id=7,
                reason="staff",
            )


async def test_reopen_while_the_incident_is_open(steps: Steps, hub: FakeHub) -> None:
    """Opening a closed community's incident again reopens the same topic."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        await close_community(
            session=session, hub=hub, community=community, now=START, actor_id=7, reason="staff"
        )
    async with steps.tx() as session:
        again = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=7,
            actor_name="x",
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=STAFF_TOPIC,
            now=START + timedelta(minutes=10),
        )
    assert again.reopened and again.community.state == CommunityState.OPEN
    assert again.community.reopen_count == 1 and len(hub.topics) == 1
    kinds = [row.kind for row in await steps.outbox(HUB)]
    assert "reopen_topic" in kinds and kinds.count("pin") == 2


async def test_quiet_period_warns_then_closes(steps: Steps, hub: FakeHub) -> None:
    """A quiet community is warned first, activity resets the warning, then it closes."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    community_id = await _open(steps, hub, incident.id)
    config = CommunityConfig(quiet_hours=2, warning_minutes=30)

    async def sweep(minutes: int) -> tuple[list[int], list[int]]:
        async with steps.tx() as session:
            result = await sweep_quiet(
                session=session, now=START + timedelta(minutes=minutes), config=config
            )
        return result.warned, result.closed

    assert await sweep(80) == ([], [])
    assert await sweep(95) == ([community_id], [])
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        await record_message(
            session=session,
            community=community,
            message_id=1,
            author_id=5,
            author_name="a",
            author_role="expert",
            kind="text",
            text="still here",
            now=START + timedelta(minutes=100),
        )
    assert await sweep(125) == ([], [])
    assert await sweep(200) == ([community_id], [])
    assert await sweep(215) == ([], [])
    assert await sweep(230) == ([], [community_id])
    assert "무활동" in (await steps.texts(STAFF))[-1]


async def test_incident_closed_between_sweeps_is_reconciled(steps: Steps, hub: FakeHub) -> None:
    """The sweep also closes communities whose incident closed without telling us."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        row = await session.get(Incident, incident.id)
        assert row is not None
        row.status = IncidentStatus.CLOSED
        session.add(row)
    async with steps.tx() as session:
        result = await sweep_quiet(
            session=session, now=START + timedelta(minutes=1), config=CommunityConfig()
        )
    assert result.closed == [community_id]


async def test_closing_without_the_messenger_leaves_links_to_the_sweep(
    steps: Steps, hub: FakeHub
) -> None:
    """The situation room may close without a hub port; the next sweep revokes the links."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    await steps.expert(31, ["fire"])
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
    await invite_round(steps, hub, community)
    async with steps.tx() as session:
        closed = await on_incident_closed(session=session, incident_id=incident.id, now=START)
        assert closed is not None and closed.state == CommunityState.CLOSED
    assert list(hub.links.values()) == [False]
    result = await tidy_closed(hub=hub, session_factory=steps.session_factory)
    assert result.revoked == 1 and list(hub.links.values()) == [True]
    again = await tidy_closed(hub=hub, session_factory=steps.session_factory)
    assert again.revoked == 0


@pytest.mark.parametrize("retry", [False, True])
async def test_a_mute_telegram_refuses_to_lift_is_left_to_staff_or_tried_again(
    steps: Steps, hub: FakeHub, work: HubWork, retry: bool
) -> None:
    """After the closing commits, a refusal that will not pass is told to staff, once (the
    sweep does not tell again); flood control is left muted, and the sweep tries again."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    await steps.expert(21, ["fire"], name="발언제한")
    hub.members[21] = "member"
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
    await invite_round(steps, hub, community)
    async with steps.tx() as session:
        (member,) = await members_of(session=session, community_id=community_id)
        member.muted = True
        await save_member(session=session, member=member)
    hub.refuse_restrict = HubError("not enough rights", retry=retry)
    async with steps.tx() as session:
        await on_incident_closed(
            session=session,
            incident_id=incident.id,
            now=START + timedelta(hours=1),
            hub=hub,
            work=work,
        )
    await work.wait()
    await tidy_closed(hub=hub, session_factory=steps.session_factory)  # the next sweep
    async with steps.tx() as session:
        (member,) = await members_of(session=session, community_id=community_id)
    told = [text for text in await steps.texts(STAFF) if "발언 제한을 풀지 못했습니다" in text]
    if retry:
        assert member.muted and not told  # the next sweep tries again
        hub.refuse_restrict = None
        lifted = await tidy_closed(hub=hub, session_factory=steps.session_factory)
        assert lifted.unmuted == 1 and hub.members[21] == "member"
    else:
        assert not member.muted and len(told) == 1 and "발언제한" in told[0]


async def test_the_opening_makes_no_hub_call_and_a_refused_topic_is_taken_back(
    steps: Steps, hub: FakeHub
) -> None:
    """The opening only stores the community; the topic is made after the commit. A topic
    Telegram refuses is told in the staff topic and the opening taken back (press again)."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    async with steps.tx() as session:
        opened = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=7,
            actor_name="최도윤",
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=STAFF_TOPIC,
            now=START,
        )
        assert opened.community.topic_id is None
    assert hub.topics == {} and await steps.outbox(HUB) == []
    community_id = opened.community.id
    assert community_id is not None

    async def refuse(*, chat_id: int, name: str) -> int:
        raise HubError("not enough rights to create a topic")

    hub.create_topic = refuse  # type: ignore[method-assign]
    factory = steps.session_factory
    made_it = await prepare_topic(
        hub=hub, session_factory=factory, community_id=community_id, now=START
    )
    assert not made_it
    assert "텔레그램이 요청을 거절했습니다" in (await steps.texts(STAFF))[-1]
    async with steps.tx() as session:
        assert await get_community(session=session, community_id=community_id) is None


async def test_an_opening_left_without_topic_is_finished_by_the_sweep(
    steps: Steps, hub: FakeHub
) -> None:
    """The worker died after the opening committed: the sweep leaves a young opening to its
    worker, then makes the topic once (brief and panel posted)."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    async with steps.tx() as session:
        await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=7,
            actor_name="최도윤",
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=STAFF_TOPIC,
            now=START,
        )
    factory = steps.session_factory
    assert await finish_openings(hub=hub, session_factory=factory, now=START) == 0
    later = START + PREPARING_LEASE
    assert await finish_openings(hub=hub, session_factory=factory, now=later) == 1
    assert await finish_openings(hub=hub, session_factory=factory, now=later) == 0
    assert len(hub.topics) == 1
    assert [row.kind for row in await steps.outbox(HUB)][:2] == ["text", "pin"]
    assert len(await steps.outbox(STAFF)) == 1  # the panel


async def test_a_reopened_incident_offers_only_a_community_closed_with_it(
    steps: Steps, hub: FakeHub
) -> None:
    """Reopening the incident offers (in its staff topic, with a button) the community that
    closed with it; one staff closed by hand before is not offered, nor an open one."""
    incident = await steps.incident("fire")
    assert incident.id is not None
    community_id = await _open(steps, hub, incident.id)
    async with steps.tx() as session:
        assert await on_incident_reopened(session=session, incident_id=incident.id) is None
        community = await get_community(session=session, community_id=community_id)
        assert community is not None
        await close_community(
            session=session, hub=None, community=community, now=START, actor_id=7, reason="staff"
        )
        assert await on_incident_reopened(session=session, incident_id=incident.id) is None
        community.close_reason = "incident_closed"
        offered = await on_incident_reopened(session=session, incident_id=incident.id)
    assert offered is not None and offered.id == community_id
    [notice] = [row for row in await steps.outbox(STAFF) if "사건 종료와 함께" in str(row.payload)]
    assert notice.thread_id == STAFF_TOPIC
    assert notice.payload["buttons"][0][0]["data"] == f"com:open:{incident.id}"
