"""Find the community or expert a command is about, for the messenger layers.

Usage (inside the update's transaction)::

    community = await community_of_hub_topic(session=session, hub_chat_id=hub, topic_id=5)
    community = await community_by_id(session=session, community_id=3)  # or CommunityError
    expert = await expert_to_invite(session=session, expert_id=12)  # or CommunityError
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from community.errors import CommunityError
from storage.communities import community_of_staff_thread, community_of_topic, get_community
from storage.experts import get_expert, list_experts
from storage.models.communities import Community
from storage.models.experts import Expert


async def community_by_id(*, session: AsyncSession, community_id: int) -> Community:
    """Return the community with this id, or refuse with ``community_error_no_community``."""
    community = await get_community(session=session, community_id=community_id)
    if community is None:
        raise CommunityError("community_error_no_community")
    return community


async def community_of_hub_topic(
    *, session: AsyncSession, hub_chat_id: int, topic_id: int | None
) -> Community | None:
    """Return the community living in this topic of the experts' hub, if any."""
    if topic_id is None:
        return None
    return await community_of_topic(session=session, hub_chat_id=hub_chat_id, topic_id=topic_id)


async def community_of_staff_topic(
    *, session: AsyncSession, staff_chat_id: int | None, thread_id: int | None
) -> Community | None:
    """Return the latest community managed from this topic of the staff supergroup, if any."""
    if staff_chat_id is None or thread_id is None:
        return None
    return await community_of_staff_thread(
        session=session, staff_chat_id=staff_chat_id, thread_id=thread_id
    )


async def expert_to_invite(*, session: AsyncSession, expert_id: int) -> Expert:
    """Return the registered expert with this id, or refuse with ``community_error_no_expert``."""
    expert = await get_expert(session=session, expert_id=expert_id)
    if expert is None:
        raise CommunityError("community_error_no_expert", expert_id=expert_id)
    return expert


async def registered_experts(*, session: AsyncSession) -> Sequence[Expert]:
    """Return every active registration, verified or not, by name."""
    return await list_experts(session=session)


def require_topic(community: Community) -> None:
    """Refuse with ``community_error_preparing`` while the community's hub topic is being made."""
    if community.topic_id is None:
        raise CommunityError("community_error_preparing")
