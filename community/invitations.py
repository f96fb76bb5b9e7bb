"""Invitations: only invited, verified experts get a way into the hub.

Usage (inside the update's transaction)::

    report = await send_invitations(session=session, hub=hub, community=community, now=now)

Join requests are decided and answered in :mod:`community.joins`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from community.brief import Brief, build_brief, community_title, topic_link
from community.errors import CommunityError
from community.outgoing import send_text, tell_staff
from community.ports import PRESENT_STATUSES, HubAdmin, HubError
from situation.texts import render
from storage.chats import is_unreachable
from storage.communities import (
    get_community,
    get_member,
    members_of,
    memberships_of_user,
    open_communities,
    save_community,
    save_member,
)
from storage.experts import invitable_experts
from storage.models.communities import Community, CommunityMember, CommunityState, MemberStatus
from storage.models.experts import Expert
from storage.models.incidents import Incident
from storage.models.outbox import Priority

DEFAULT_LINK_TTL = timedelta(hours=24)


@dataclass
class InvitationReport:
    """Who was invited with a join-request link, who got the topic link, who failed, and who
    was skipped because another open community shut them out (with its titles)."""

    invited: list[Expert] = field(default_factory=list)
    in_hub: list[Expert] = field(default_factory=list)
    failed: list[tuple[Expert, str]] = field(default_factory=list)
    skipped: list[tuple[Expert, list[str]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many experts were reached."""
        return len(self.invited) + len(self.in_hub)


def _settled(member: CommunityMember) -> bool:
    if member.status in (MemberStatus.JOINED, MemberStatus.REMOVED):
        return True
    return member.status == MemberStatus.INVITED and not member.link_revoked


async def candidates(*, session: AsyncSession, community: Community) -> list[Expert]:
    """Return the verified, available experts of the community's fields not yet invited."""
    assert community.id is not None
    members = await members_of(session=session, community_id=community.id)
    done = {member.telegram_user_id for member in members if _settled(member)}
    experts = await invitable_experts(session=session, fields=community.fields)
    return [
        expert
        for expert in experts
        if expert.telegram_user_id not in done and expert.id not in community.excluded
    ]


class _Briefs:
    """Briefs per language, built once per invitation round."""

    def __init__(self, session: AsyncSession, incident: Incident, tz: str) -> None:
        self._session = session
        self._incident = incident
        self._tz = tz
        self._cache: dict[str, Brief] = {}

    async def get(self, lang: str) -> Brief:
        if lang not in self._cache:
            self._cache[lang] = await build_brief(
                session=self._session, incident=self._incident, lang=lang, tz=self._tz
            )
        return self._cache[lang]


async def _incident(session: AsyncSession, community: Community) -> Incident:
    incident = await session.get(Incident, community.incident_id)
    if incident is None:
        raise CommunityError("community_error_no_incident")
    return incident


async def invite_expert(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    expert: Expert,
    now: datetime,
    brief: Brief,
    link_ttl: timedelta = DEFAULT_LINK_TTL,
) -> CommunityMember:
    """Invite one expert: a join-request link, or the topic link when already in the hub."""
    assert community.id is not None and expert.id is not None
    status = await hub.member_status(chat_id=community.hub_chat_id, user_id=expert.telegram_user_id)
    member = await get_member(
        session=session, community_id=community.id, telegram_user_id=expert.telegram_user_id
    )
    if member is None:
        member = CommunityMember(
            community_id=community.id, telegram_user_id=expert.telegram_user_id
        )
    member.expert_id = expert.id
    member.name = expert.name
    member.role = expert.role
    member.invited_at = now
    in_hub = status in PRESENT_STATUSES
    if in_hub:
        link = topic_link(community.hub_chat_id, community.topic_id)
        member.status = MemberStatus.JOINED
        member.joined_at = now
        member.invite_link = None
        member.link_revoked = False
    else:
        link = await hub.create_invite_link(
            chat_id=community.hub_chat_id,
            name=f"c{community.id}-e{expert.id}"[:32],
            expire_date=now + link_ttl,
        )
        member.status = MemberStatus.INVITED
        member.invite_link = link
        member.link_revoked = False
    await save_member(session=session, member=member)
    await send_text(
        session=session,
        chat_id=expert.telegram_user_id,
        text=render(
            expert.language,
            "expert_invitation",
            brief=brief,
            link=link,
            in_hub=in_hub,
            expert=expert,
            fields=community.fields,
        ),
        priority=Priority.STAFF_NOTICE,
    )
    return member


async def send_invitations(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    link_ttl: timedelta = DEFAULT_LINK_TTL,
) -> InvitationReport:
    """Invite every matching, verified, available expert and report it in the staff topic."""
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")
    if not community.fields:
        raise CommunityError("community_error_no_fields")
    briefs = _Briefs(session, await _incident(session, community), tz)
    report = InvitationReport()
    for expert in await candidates(session=session, community=community):
        if await is_unreachable(session=session, chat_id=expert.telegram_user_id):
            report.failed.append((expert, render(lang, "community_expert_blocked")))
            continue
        shut = await shut_out_by(session=session, expert=expert, admitting=community)
        if shut:  # the hub would decline their request: no invitation they cannot use
            titles = [
                await community_title(session=session, community=other, lang=lang) for other in shut
            ]
            report.skipped.append((expert, titles))
            continue
        try:
            member = await invite_expert(
                session=session,
                hub=hub,
                community=community,
                expert=expert,
                now=now,
                brief=await briefs.get(expert.language),
                link_ttl=link_ttl,
            )
        except HubError as error:
            report.failed.append((expert, str(error)))
            continue
        (report.in_hub if member.status == MemberStatus.JOINED else report.invited).append(expert)
    community.invitations_sent_at = now
    await save_community(session=session, community=community)
    await tell_staff(
        session=session,
        community=community,
        text=render(lang, "community_invitations_sent", report=report, community=community),
    )
    return report


async def invite_one(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    expert: Expert,
    now: datetime,
    tz: str = "Asia/Seoul",
    link_ttl: timedelta = DEFAULT_LINK_TTL,
) -> CommunityMember:
    """Invite one verified expert chosen by staff, whatever their fields."""
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")
    if not (expert.verified and expert.active):
        raise CommunityError("community_error_not_verified", name=expert.name)
    if await is_unreachable(session=session, chat_id=expert.telegram_user_id):
        raise CommunityError("community_error_blocked", name=expert.name)
    if expert.id in community.excluded:
        community.excluded = [value for value in community.excluded if value != expert.id]
        await save_community(session=session, community=community)
    brief = await build_brief(
        session=session,
        incident=await _incident(session, community),
        lang=expert.language,
        tz=tz,
    )
    try:
        return await invite_expert(
            session=session,
            hub=hub,
            community=community,
            expert=expert,
            now=now,
            brief=brief,
            link_ttl=link_ttl,
        )
    except HubError as error:
        raise CommunityError("community_error_hub", detail=str(error)) from error


async def shut_out_by(
    *, session: AsyncSession, expert: Expert, admitting: Community
) -> list[Community]:
    """Return the open communities other than ``admitting`` that staff shut the expert out of.

    Removed from one (``/remove``) or left out of its invitations (``/exclude``): every
    community is a topic of the one hub, so letting the expert into the hub for ``admitting``
    would let them read those topics too.
    """
    removed = {
        member.community_id
        for member in await memberships_of_user(
            session=session, telegram_user_id=expert.telegram_user_id
        )
        if member.status == MemberStatus.REMOVED
    }
    return [
        community
        for community in await open_communities(session=session)
        if community.id != admitting.id
        and community.hub_chat_id == admitting.hub_chat_id
        and (community.id in removed or expert.id in community.excluded)
    ]


async def member_left(
    *, session: AsyncSession, hub_chat_id: int, user_id: int, now: datetime
) -> int:
    """Record that someone left the hub: their joined memberships of open communities end."""
    count = 0
    # Locked: a concurrent /remove of the same member must not be overwritten by "left".
    memberships = await memberships_of_user(
        session=session, telegram_user_id=user_id, for_update=True
    )
    for member in memberships:
        if member.status != MemberStatus.JOINED:
            continue
        community = await get_community(session=session, community_id=member.community_id)
        if community is None or community.hub_chat_id != hub_chat_id:
            continue
        if community.state != CommunityState.OPEN:
            continue
        member.status = MemberStatus.LEFT
        member.left_at = now
        await save_member(session=session, member=member)
        count += 1
    return count
