"""Citizens reach the community and hear back only through the bot, never identified."""

from __future__ import annotations

import pytest

from community.errors import CommunityError
from community.lifecycle import close_community, open_community
from community.relay import citizen_to_community, community_to_citizens
from situation.audit import Actor
from situation.staffroom import RoomConfig
from storage.communities import transcript
from storage.models.citizens import Citizen
from storage.models.outbox import OutboxMessage, OutboxStatus
from storage.models.reports import Report, ReportStatus
from tests.community.conftest import (
    HUB,
    STAFF,
    STAFF_TOPIC,
    START,
    FakeHub,
    Steps,
    made,
    opened_community,
)

CITIZEN = 9001


async def test_relay_both_ways(steps: Steps, hub: FakeHub) -> None:
    """The citizen's words enter the topic anonymously; the answer reaches the citizen."""
    incident = await steps.incident("fire", topic_id=STAFF_TOPIC)
    assert incident.id is not None
    async with steps.tx() as session:
        citizen = Citizen(telegram_user_id=CITIZEN, language="ko")
        session.add(citizen)
        await session.flush()
        session.add(
            Report(
                citizen_id=citizen.id,
                incident_id=incident.id,
                status=ReportStatus.FILED,
                reference="R-1",
                text="3층에 연기",
            )
        )
        session.add(
            OutboxMessage(
                chat_id=STAFF,
                kind="create_topic",
                payload={"name": "fire"},
                correlation=f"incident:{incident.id}:topic",
                status=OutboxStatus.SENT.value,
                result_thread_id=STAFF_TOPIC,
            )
        )
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
    community = await made(steps, hub, opened.community)
    async with steps.tx() as session:
        await citizen_to_community(
            session=session, community=community, text="계단에 사람이 있어요", now=START
        )
        result = await community_to_citizens(
            session=session,
            community=community,
            room=RoomConfig(chat_id=STAFF),
            actor=Actor(user_id=7, name="최도윤"),
            text="창문을 닫고 젖은 수건으로 문틈을 막으세요",
            message_id=31,
            now=START,
        )
        assert community.id is not None
        entries = await transcript(session=session, community_id=community.id)
    assert result.sent == 1
    relayed = [text for text in await steps.texts(HUB) if "계단에 사람이 있어요" in text]
    assert relayed and str(CITIZEN) not in relayed[0]
    assert [(e.author_role, e.author_id) for e in entries if e.kind == "relay"] == [
        ("citizen", None)
    ]
    assert any("젖은 수건" in text for text in await steps.texts(CITIZEN))


async def test_relay_needs_an_open_community(steps: Steps, hub: FakeHub) -> None:
    """Nothing is relayed into a closed community."""
    community = await opened_community(steps, hub)
    async with steps.tx() as session:
        await close_community(
            session=session,
            hub=hub,
            community=community,
            now=START,
            actor_id=7,
            reason="staff",
        )
        with pytest.raises(CommunityError):
            await citizen_to_community(session=session, community=community, text="x", now=START)
