"""The look-ups handlers use find the community or expert a command is about, or refuse."""

from __future__ import annotations

import pytest

from community.errors import CommunityError
from community.lookup import (
    community_by_id,
    community_of_hub_topic,
    community_of_staff_topic,
    expert_to_invite,
    registered_experts,
)
from tests.community.conftest import HUB, STAFF, STAFF_TOPIC, FakeHub, Steps, opened_community


async def _open(steps: Steps, hub: FakeHub) -> int:
    community = await opened_community(steps, hub)
    assert community.id is not None
    return community.id


async def test_community_found_by_id_hub_topic_and_staff_topic(steps: Steps, hub: FakeHub) -> None:
    """One community is found by its id, its hub topic and the staff topic it is managed from."""
    community_id = await _open(steps, hub)
    async with steps.tx() as session:
        community = await community_by_id(session=session, community_id=community_id)
        assert community.topic_id is not None
        in_hub = await community_of_hub_topic(
            session=session, hub_chat_id=HUB, topic_id=community.topic_id
        )
        in_staff = await community_of_staff_topic(
            session=session, staff_chat_id=STAFF, thread_id=STAFF_TOPIC
        )
    assert in_hub is not None and in_hub.id == community_id
    assert in_staff is not None and in_staff.id == community_id


async def test_no_community_outside_a_topic(steps: Steps, hub: FakeHub) -> None:
    """A message outside a topic, or in another topic, belongs to no community."""
    await _open(steps, hub)
    async with steps.tx() as session:
        assert await community_of_hub_topic(session=session, hub_chat_id=HUB, topic_id=None) is None
        assert await community_of_hub_topic(session=session, hub_chat_id=HUB, topic_id=999) is None
        assert (
            await community_of_staff_topic(session=session, staff_chat_id=None, thread_id=1)
        ) is None
        assert (
            await community_of_staff_topic(session=session, staff_chat_id=STAFF, thread_id=None)
        ) is None


async def test_unknown_community_is_refused(steps: Steps) -> None:
    """An id that names no community is refused with the catalogue's message."""
    async with steps.tx() as session:
        with pytest.raises(CommunityError) as error:
            await community_by_id(session=session, community_id=404)
    assert error.value.code == "community_error_no_community"


async def test_expert_to_invite_and_registered(steps: Steps) -> None:
    """An expert is found by id or refused; the list holds pending and verified people."""
    verified = await steps.expert(50, ["fire"], name="가")
    waiting = await steps.expert(51, ["marine"], verified=False, name="나")
    assert verified.id is not None
    async with steps.tx() as session:
        found = await expert_to_invite(session=session, expert_id=verified.id)
        with pytest.raises(CommunityError) as error:
            await expert_to_invite(session=session, expert_id=9999)
        everyone = await registered_experts(session=session)
    assert found.telegram_user_id == 50
    assert error.value.code == "community_error_no_expert"
    assert [e.id for e in everyone] == [verified.id, waiting.id]
