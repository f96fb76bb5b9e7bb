"""Repository of emergency communities, their members and their transcript.

Usage::

    community = await open_community_of_incident(session=session, incident_id=7)
    member = await member_by_link(session=session, invite_link=url)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.communities import (
    Community,
    CommunityMember,
    CommunityMessage,
    CommunityState,
    HubJoinRequest,
    JoinAnswer,
    MemberStatus,
)
from storage.models.incidents import Incident, IncidentStatus


async def save_community(*, session: AsyncSession, community: Community) -> Community:
    """Insert or update a community and return it with its id."""
    session.add(community)
    await session.flush()
    return community


async def get_community(*, session: AsyncSession, community_id: int) -> Community | None:
    """Return the community with this id."""
    return await session.get(Community, community_id)


async def community_of_incident(*, session: AsyncSession, incident_id: int) -> Community | None:
    """Return the incident's community (the latest one), open or closed."""
    statement = (
        select(Community)
        .where(col(Community.incident_id) == incident_id)
        .order_by(col(Community.id).desc())
    )
    return (await session.exec(statement)).first()


async def community_of_topic(
    *, session: AsyncSession, hub_chat_id: int, topic_id: int
) -> Community | None:
    """Return the community that lives in this topic of the hub."""
    statement = select(Community).where(
        col(Community.hub_chat_id) == hub_chat_id, col(Community.topic_id) == topic_id
    )
    return (await session.exec(statement)).first()


async def community_of_staff_thread(
    *, session: AsyncSession, staff_chat_id: int, thread_id: int
) -> Community | None:
    """Return the latest community managed from this staff topic."""
    statement = (
        select(Community)
        .where(
            col(Community.staff_chat_id) == staff_chat_id,
            col(Community.staff_thread_id) == thread_id,
        )
        .order_by(col(Community.id).desc())
    )
    return (await session.exec(statement)).first()


async def open_communities(*, session: AsyncSession) -> Sequence[Community]:
    """Return every open community, oldest first."""
    statement = (
        select(Community)
        .where(col(Community.state) == CommunityState.OPEN)
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()


async def communities_of_closed_incidents(*, session: AsyncSession) -> Sequence[Community]:
    """Return open communities whose incident is closed (the close was not passed on)."""
    statement = (
        select(Community)
        .join(Incident, col(Incident.id) == col(Community.incident_id))
        .where(
            col(Community.state) == CommunityState.OPEN,
            col(Incident.status) == IncidentStatus.CLOSED,
        )
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()


async def closed_with_live_links(*, session: AsyncSession) -> Sequence[Community]:
    """Return closed communities that still have invite links not revoked."""
    statement = (
        select(Community)
        .where(
            col(Community.state) == CommunityState.CLOSED,
            col(Community.id).in_(
                select(CommunityMember.community_id).where(
                    col(CommunityMember.invite_link).is_not(None),
                    col(CommunityMember.link_revoked).is_(False),
                )
            ),
        )
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()


async def closed_with_mutes(*, session: AsyncSession) -> Sequence[Community]:
    """Return closed communities that still hold muted members."""
    statement = (
        select(Community)
        .where(
            col(Community.state) == CommunityState.CLOSED,
            col(Community.id).in_(
                select(CommunityMember.community_id).where(col(CommunityMember.muted).is_(True))
            ),
        )
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()


async def quiet_communities(*, session: AsyncSession, idle_since: datetime) -> Sequence[Community]:
    """Return open communities with no activity since ``idle_since``."""
    statement = (
        select(Community)
        .where(
            col(Community.state) == CommunityState.OPEN,
            col(Community.last_activity_at) <= idle_since,
        )
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()


async def save_member(*, session: AsyncSession, member: CommunityMember) -> CommunityMember:
    """Insert or update a community member."""
    session.add(member)
    await session.flush()
    return member


async def get_member(
    *, session: AsyncSession, community_id: int, telegram_user_id: int
) -> CommunityMember | None:
    """Return one person's membership of one community."""
    statement = select(CommunityMember).where(
        col(CommunityMember.community_id) == community_id,
        col(CommunityMember.telegram_user_id) == telegram_user_id,
    )
    return (await session.exec(statement)).first()


async def members_of(
    *, session: AsyncSession, community_id: int, statuses: Sequence[str] | None = None
) -> Sequence[CommunityMember]:
    """Return a community's members, optionally only in some statuses."""
    statement = select(CommunityMember).where(col(CommunityMember.community_id) == community_id)
    if statuses is not None:
        statement = statement.where(col(CommunityMember.status).in_(statuses))
    return (await session.exec(statement.order_by(col(CommunityMember.id)))).all()


async def member_by_link(*, session: AsyncSession, invite_link: str) -> CommunityMember | None:
    """Return the membership an invite link was made for."""
    statement = select(CommunityMember).where(col(CommunityMember.invite_link) == invite_link)
    return (await session.exec(statement)).first()


async def invitations_of_user(
    *, session: AsyncSession, telegram_user_id: int
) -> Sequence[tuple[CommunityMember, Community]]:
    """Return a person's pending invitations to open communities, newest first."""
    statement = (
        select(CommunityMember, Community)
        .join(Community, col(Community.id) == col(CommunityMember.community_id))
        .where(
            col(CommunityMember.telegram_user_id) == telegram_user_id,
            col(CommunityMember.status) == MemberStatus.INVITED,
            col(Community.state) == CommunityState.OPEN,
        )
        .order_by(col(CommunityMember.id).desc())
    )
    return [(member, community) for member, community in (await session.exec(statement)).all()]


async def memberships_of_user(
    *, session: AsyncSession, telegram_user_id: int, for_update: bool = False
) -> Sequence[CommunityMember]:
    """Return every membership of a person, newest first (locked for update if asked)."""
    statement = (
        select(CommunityMember)
        .where(col(CommunityMember.telegram_user_id) == telegram_user_id)
        .order_by(col(CommunityMember.id).desc())
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.exec(statement)).all()


async def add_message(*, session: AsyncSession, message: CommunityMessage) -> CommunityMessage:
    """Store one transcript message."""
    session.add(message)
    await session.flush()
    return message


async def find_message(
    *, session: AsyncSession, community_id: int, message_id: int
) -> CommunityMessage | None:
    """Return the transcript entry of a hub message."""
    statement = select(CommunityMessage).where(
        col(CommunityMessage.community_id) == community_id,
        col(CommunityMessage.message_id) == message_id,
    )
    return (await session.exec(statement)).first()


async def transcript(*, session: AsyncSession, community_id: int) -> Sequence[CommunityMessage]:
    """Return a community's transcript in order."""
    statement = (
        select(CommunityMessage)
        .where(col(CommunityMessage.community_id) == community_id)
        .order_by(col(CommunityMessage.at), col(CommunityMessage.id))
    )
    return (await session.exec(statement)).all()


async def save_join_request(*, session: AsyncSession, request: HubJoinRequest) -> HubJoinRequest:
    """Insert or update a join request to the hub and flush it (so it has an id)."""
    session.add(request)
    await session.flush()
    return request


async def get_join_request(
    *, session: AsyncSession, request_id: int, for_update: bool = False
) -> HubJoinRequest | None:
    """Return a join request by id (locked for the transaction when ``for_update``)."""
    return await session.get(HubJoinRequest, request_id, with_for_update=for_update)


async def pending_join_requests(
    *, session: AsyncSession, hub_chat_id: int | None = None, telegram_user_id: int | None = None
) -> Sequence[HubJoinRequest]:
    """Return the join requests Telegram has not been answered about yet, oldest first."""
    statement = select(HubJoinRequest).where(col(HubJoinRequest.state) == JoinAnswer.PENDING)
    if hub_chat_id is not None:
        statement = statement.where(col(HubJoinRequest.hub_chat_id) == hub_chat_id)
    if telegram_user_id is not None:
        statement = statement.where(col(HubJoinRequest.telegram_user_id) == telegram_user_id)
    return (await session.exec(statement.order_by(col(HubJoinRequest.id)))).all()


async def preparing_members(
    *, session: AsyncSession, decided_before: datetime
) -> Sequence[CommunityMember]:
    """Return invitations decided before ``decided_before`` and left "preparing" (oldest first)."""
    statement = (
        select(CommunityMember)
        .where(
            col(CommunityMember.status) == MemberStatus.PREPARING,
            col(CommunityMember.invited_at) <= decided_before,
        )
        .order_by(col(CommunityMember.id))
    )
    return (await session.exec(statement)).all()


async def communities_without_topic(
    *, session: AsyncSession, opened_before: datetime
) -> Sequence[Community]:
    """Return open communities opened before ``opened_before`` whose hub topic is not made yet."""
    statement = (
        select(Community)
        .where(
            col(Community.state) == CommunityState.OPEN,
            col(Community.topic_id).is_(None),
            col(Community.opened_at) <= opened_before,
        )
        .order_by(col(Community.id))
    )
    return (await session.exec(statement)).all()
