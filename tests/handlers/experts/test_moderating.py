"""The moderation commands the hub topic and the staff topic share."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from community.errors import CommunityError
from community.hub_work import HubWork
from community.lifecycle import open_community
from community.transcript import record_message, summarise
from handlers.experts.moderating import close_by_staff, moderate
from storage.models.communities import Community, CommunityState
from storage.models.staff import StaffMember
from tests.community.conftest import HUB, STAFF, START, FakeHub, Steps, made

LEAD = StaffMember(telegram_user_id=7, name="lead", role="lead")


@pytest.fixture
def hub() -> FakeHub:
    """A fresh fake hub."""
    return FakeHub()


@pytest.fixture
def steps(session_factory: async_sessionmaker[AsyncSession]) -> Steps:
    """Step helper on this test's database."""
    return Steps(session_factory)


async def _community(steps: Steps, hub: FakeHub) -> Community:
    incident = await steps.incident("fire")
    assert incident.id is not None
    async with steps.tx() as session:
        opened = await open_community(
            session=session,
            hub=hub,
            incident_id=incident.id,
            actor_id=LEAD.telegram_user_id,
            actor_name=LEAD.name,
            role="lead",
            hub_chat_id=HUB,
            staff_chat_id=STAFF,
            staff_thread_id=None,
            now=START,
        )
    return await made(steps, hub, opened.community)


async def test_moderate_carries_out_each_shared_command(
    steps: Steps, hub: FakeHub, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Members, messages, read-only and decisions; other names are left to the caller. The
    member and message actions call the hub only once the transaction has committed."""
    work = HubWork(session_factory=session_factory)
    community = await _community(steps, hub)
    hub.members[81] = "member"
    async with steps.tx() as session:
        for message_id, text in ((301, "spam"), (302, "배연 필요")):
            await record_message(
                session=session,
                community=community,
                message_id=message_id,
                author_id=81,
                author_name="expert",
                author_role="expert",
                kind="text",
                text=text,
                now=START,
            )

        async def run(
            name: str,
            args: str | None = None,
            *,
            user: tuple[int, str] | None = None,
            message_id: int | None = None,
        ) -> str | None:
            return await moderate(
                name,
                args=args,
                user=user,
                message_id=message_id,
                session=session,
                hub=hub,
                community=community,
                staff_member=LEAD,
                now=START,
                lang="ko",
                work=work,
            )

        assert await run("mute", user=(81, "expert")) == "later"
        assert await run("del", message_id=301) == "later"
        assert (hub.members[81], hub.deleted) == ("member", [])  # not inside the transaction
        assert await run("pin", message_id=302) == "done"
        assert await run("decision", message_id=302)
        assert await run("decision", "2차 대피 권고", message_id=302)
        assert await run("readonly", "on")
        assert community.readonly
        assert await run("readonly", "off")
        assert not community.readonly
        for name in ("mute", "remove", "del", "pin"):
            with pytest.raises(CommunityError) as error:
                await run(name)
            assert error.value.code == "community_error_no_target"
        assert not await run("tocitizen", "hello")
        summary = await summarise(session=session, community=community, now=START)
    await work.wait()
    assert (hub.members[81], hub.deleted) == ("restricted", [301])
    assert summary.decisions == ["배연 필요", "2차 대피 권고"]
    assert "배연 필요" in summary.pinned


async def test_close_by_staff(steps: Steps, hub: FakeHub) -> None:
    """The community closes with the staff member as the actor and 'staff' as the reason."""
    community = await _community(steps, hub)
    async with steps.tx() as session:
        await close_by_staff(
            session=session,
            hub=hub,
            community=community,
            staff_member=LEAD,
            now=START,
            settings=Settings(),
        )
    assert community.state == CommunityState.CLOSED
    assert (community.closed_by, community.close_reason) == (7, "staff")
