"""The community repository finds communities by incident, topic and staff thread, and links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.communities import (
    add_message,
    community_of_incident,
    community_of_staff_thread,
    community_of_topic,
    find_message,
    invitations_of_user,
    member_by_link,
    members_of,
    open_communities,
    quiet_communities,
    save_community,
    save_member,
    transcript,
)
from storage.incidents import create_incident
from storage.models.communities import (
    Community,
    CommunityMember,
    CommunityMessage,
    CommunityState,
    MemberStatus,
)
from storage.models.incidents import Incident

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def test_lookups(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Communities are found by incident, topic and staff thread; members by link and user."""
    async with session_factory() as session, session.begin():
        incident = await create_incident(session=session, incident=Incident(scenario="fire"))
        assert incident.id is not None
        old = await save_community(
            session=session,
            community=Community(
                incident_id=incident.id,
                hub_chat_id=-100,
                topic_id=5,
                state=CommunityState.CLOSED,
                last_activity_at=T0,
            ),
        )
        new = await save_community(
            session=session,
            community=Community(
                incident_id=incident.id,
                hub_chat_id=-100,
                topic_id=6,
                staff_chat_id=-200,
                staff_thread_id=9,
                last_activity_at=T0 + timedelta(hours=2),
            ),
        )
        assert new.id is not None and old.id is not None
        await save_member(
            session=session,
            member=CommunityMember(
                community_id=new.id, telegram_user_id=42, invite_link="https://t.me/+a"
            ),
        )
        await save_member(
            session=session,
            member=CommunityMember(
                community_id=old.id, telegram_user_id=42, status=MemberStatus.INVITED
            ),
        )
        await add_message(
            session=session,
            message=CommunityMessage(
                community_id=new.id, incident_id=incident.id, chat_id=-100, message_id=3, at=T0
            ),
        )
    async with session_factory() as session:
        assert (await community_of_incident(session=session, incident_id=incident.id)) == new
        assert (await community_of_topic(session=session, hub_chat_id=-100, topic_id=5)) == old
        found = await community_of_staff_thread(session=session, staff_chat_id=-200, thread_id=9)
        assert found == new
        assert [c.id for c in await open_communities(session=session)] == [new.id]
        quiet = await quiet_communities(session=session, idle_since=T0 + timedelta(hours=1))
        assert quiet == []
        quiet = await quiet_communities(session=session, idle_since=T0 + timedelta(hours=3))
        assert [c.id for c in quiet] == [new.id]
        member = await member_by_link(session=session, invite_link="https://t.me/+a")
        assert member is not None and member.community_id == new.id
        pending = await invitations_of_user(session=session, telegram_user_id=42)
        assert [(m.community_id, c.id) for m, c in pending] == [(new.id, new.id)]
        assert len(await members_of(session=session, community_id=new.id)) == 1
        assert (
            await members_of(session=session, community_id=new.id, statuses=(MemberStatus.JOINED,))
            == []
        )
        entry = await find_message(session=session, community_id=new.id, message_id=3)
        assert entry is not None
        assert await transcript(session=session, community_id=new.id) == [entry]
