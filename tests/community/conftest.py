"""Helpers for the community tests: a fake hub (the port), a session per step, the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from community.hub_work import HubWork
from community.invitations import InvitationReport, complete_invitations, send_invitations
from community.lifecycle import open_community, prepare_topic
from community.ports import HubError
from storage.experts import save_expert
from storage.incidents import create_incident
from storage.models.communities import Community
from storage.models.experts import Expert
from storage.models.incidents import Incident
from storage.models.outbox import OutboxMessage

START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
HUB = -1001000000001
STAFF = -1001000000002
STAFF_TOPIC = 77


@dataclass
class FakeHub:
    """An in-memory experts' hub that records every call, like the Bot API would answer."""

    members: dict[int, str] = field(default_factory=dict)
    links: dict[str, bool] = field(default_factory=dict)  # url -> revoked
    topics: dict[int, str] = field(default_factory=dict)
    approved: list[int] = field(default_factory=list)
    declined: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    fail_links: bool = False
    refuse_restrict: HubError | None = None
    refuse_joins: HubError | None = None  # approving or declining a join request fails so
    gone: set[int] = field(default_factory=set)  # users whose join request Telegram lost

    async def create_topic(self, *, chat_id: int, name: str) -> int:
        topic_id = 100 + len(self.topics)
        self.topics[topic_id] = name
        return topic_id

    async def create_invite_link(
        self, *, chat_id: int, name: str, expire_date: datetime | None
    ) -> str:
        if self.fail_links:
            raise HubError("not enough rights to manage chat invite link")
        url = f"https://t.me/+{name}-{len(self.links)}"
        self.links[url] = False
        return url

    async def revoke_invite_link(self, *, chat_id: int, invite_link: str) -> None:
        if invite_link not in self.links:
            raise HubError("INVITE_HASH_EXPIRED")
        self.links[invite_link] = True

    def _pending(self, user_id: int) -> None:
        if self.refuse_joins is not None:
            raise self.refuse_joins
        if user_id in self.gone:
            raise HubError("Bad Request: HIDE_REQUESTER_MISSING", gone=True)

    async def approve_join_request(self, *, chat_id: int, user_id: int) -> None:
        self._pending(user_id)
        self.approved.append(user_id)
        self.members[user_id] = "member"
        self.gone.add(user_id)  # answered: Telegram forgets the request

    async def decline_join_request(self, *, chat_id: int, user_id: int) -> None:
        self._pending(user_id)
        self.declined.append(user_id)
        self.gone.add(user_id)

    async def member_status(self, *, chat_id: int, user_id: int) -> str:
        return self.members.get(user_id, "left")

    async def restrict(self, *, chat_id: int, user_id: int, can_send: bool) -> None:
        if self.refuse_restrict is not None:
            raise self.refuse_restrict
        if self.members.get(user_id) == "administrator":
            raise HubError("user is an administrator of the chat")
        self.members[user_id] = "member" if can_send else "restricted"

    async def remove(self, *, chat_id: int, user_id: int) -> None:
        self.members[user_id] = "left"

    async def delete_message(self, *, chat_id: int, message_id: int) -> None:
        self.deleted.append(message_id)

    async def missing_rights(self, *, chat_id: int) -> list[str]:
        return list(self.missing)


class Steps:
    """Run domain calls each in its own committed transaction, like the bot does per update."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction committed at the end."""
        async with self.session_factory() as session, session.begin():
            yield session

    async def expert(
        self,
        user_id: int,
        fields: list[str],
        *,
        verified: bool = True,
        available: bool = True,
        name: str | None = None,
        language: str = "ko",
    ) -> Expert:
        """Register an expert directly in the database."""
        async with self.tx() as session:
            return await save_expert(
                session=session,
                expert=Expert(
                    telegram_user_id=user_id,
                    name=name or f"expert {user_id}",
                    organisation="org",
                    fields=fields,
                    verified=verified,
                    available=available,
                    language=language,
                ),
            )

    async def incident(self, scenario: str = "fire", **values: Any) -> Incident:
        """Create an open incident."""
        async with self.tx() as session:
            return await create_incident(
                session=session,
                incident=Incident(
                    scenario=scenario,
                    reference=values.pop("reference", "I-20261122-0001"),
                    priority=values.pop("priority", "P1"),
                    opened_at=START,
                    **values,
                ),
            )

    async def outbox(self, chat_id: int | None = None) -> list[OutboxMessage]:
        """Return the queued outbox rows, optionally of one chat."""
        async with self.session_factory() as session:
            statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
            if chat_id is not None:
                statement = statement.where(col(OutboxMessage.chat_id) == chat_id)
            return list((await session.exec(statement)).all())

    async def texts(self, chat_id: int) -> list[str]:
        """Return the texts queued for one chat."""
        return [
            str(row.payload.get("text", ""))
            for row in await self.outbox(chat_id)
            if row.kind == "text"
        ]


@pytest.fixture
def hub() -> FakeHub:
    """A fresh fake hub."""
    return FakeHub()


@pytest.fixture
def steps(session_factory: async_sessionmaker[AsyncSession]) -> Steps:
    """Step helper on this test's database."""
    return Steps(session_factory)


@pytest.fixture
def work(session_factory: async_sessionmaker[AsyncSession]) -> HubWork:
    """Hub calls after commit, on this test's database."""
    return HubWork(session_factory=session_factory)


async def opened_community(steps: Steps, hub: FakeHub, scenario: str = "fire") -> Community:
    """Open a community for a new incident of ``scenario``, reporting to the staff topic."""
    incident = await steps.incident(scenario)
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
            staff_thread_id=STAFF_TOPIC,
            now=START,
        )
    return await made(steps, hub, opened.community)


async def made(steps: Steps, hub: FakeHub, community: Community) -> Community:
    """Make an opened community's hub topic (the work after the opening's commit); reload it."""
    assert community.id is not None
    await prepare_topic(
        hub=hub, session_factory=steps.session_factory, community_id=community.id, now=START
    )
    async with steps.session_factory() as session:
        found = await session.get(Community, community.id)
    assert found is not None and found.topic_id is not None
    return found


async def invite_round(steps: Steps, hub: FakeHub, community: Community) -> InvitationReport:
    """Decide an invitation round in one transaction, then make its hub calls after it."""
    async with steps.tx() as session:
        fresh = await session.get(Community, community.id)
        assert fresh is not None
        chosen = await send_invitations(session=session, community=fresh, now=START)
    return await complete_invitations(hub=hub, session_factory=steps.session_factory, chosen=chosen)
