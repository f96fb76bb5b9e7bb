"""Invitations: only invited, verified experts get a way into the hub.

Usage::

    chosen = await send_invitations(session=session, community=community, now=now)  # decide
    work.invite_after_commit(session, hub=hub, chosen=chosen)
    # ... the session commits; then, outside any transaction:
    report = await complete_invitations(hub=hub, session_factory=factory, chosen=chosen)

    await finish_invitations(hub=hub, session_factory=factory, now=now)  # the sweep's part

The deciding transaction marks the memberships "preparing" (no link yet, never counted as
invited) and commits. The hub calls (is the expert in the hub already? a join-request link)
follow with no transaction open; each outcome is stored in a short transaction with the
invitation (outbox), then the staff topic's report. A worker dying in between leaves "preparing"
rows, which the sweep, or the next invitation round, completes: a link made but not stored is
lost and a new one made (the old one expires by itself).

Join requests are decided and answered in :mod:`community.joins`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from community.brief import Brief, build_brief, community_title, topic_link
from community.errors import CommunityError
from community.outgoing import send_text, tell_staff
from community.ports import PRESENT_STATUSES, HubAdmin, HubError
from community.steps import Steps, Turn
from situation.texts import render
from storage.chats import is_unreachable
from storage.communities import (
    get_community,
    get_member,
    members_of,
    memberships_of_user,
    open_communities,
    preparing_members,
    save_community,
    save_member,
)
from storage.experts import invitable_experts
from storage.models.communities import Community, CommunityMember, CommunityState, MemberStatus
from storage.models.experts import Expert
from storage.models.incidents import Incident
from storage.models.outbox import Priority

DEFAULT_LINK_TTL = timedelta(hours=24)
PREPARING_LEASE = timedelta(minutes=2)  # a younger "preparing" invitation is left to its caller


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


async def _incident(session: AsyncSession, community: Community) -> Incident:
    incident = await session.get(Incident, community.incident_id)
    if incident is None:
        raise CommunityError("community_error_no_incident")
    return incident


@dataclass
class Round:
    """Invitations decided and committed, whose hub calls are still to make.

    ``one``: a single expert chosen by staff (``/invite``): the staff topic is told
    "invited" or Telegram's refusal; otherwise the round's report (who was invited, who
    failed, who was skipped) goes there once every link is made.
    """

    community_id: int
    member_ids: list[int]
    now: datetime
    lang: str = "ko"
    tz: str = "Asia/Seoul"
    link_ttl: timedelta = DEFAULT_LINK_TTL
    one: bool = False
    failed: list[tuple[Expert, str]] = field(default_factory=list)
    skipped: list[tuple[Expert, list[str]]] = field(default_factory=list)


async def _prepare(
    session: AsyncSession, community: Community, expert: Expert, now: datetime
) -> CommunityMember:
    """Mark the expert's membership "preparing": decided, no link yet, never counted invited."""
    assert community.id is not None and expert.id is not None
    member = await get_member(
        session=session, community_id=community.id, telegram_user_id=expert.telegram_user_id
    )
    if member is None:
        member = CommunityMember(
            community_id=community.id, telegram_user_id=expert.telegram_user_id
        )
    elif member.status != MemberStatus.PREPARING:
        member.prepared_from = member.status
    member.expert_id = expert.id
    member.name = expert.name
    member.role = expert.role
    member.invited_at = now
    member.status = MemberStatus.PREPARING
    return await save_member(session=session, member=member)


def _require_ready(community: Community) -> None:
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")
    if community.topic_id is None:
        raise CommunityError("community_error_preparing")


async def send_invitations(
    *,
    session: AsyncSession,
    community: Community,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    link_ttl: timedelta = DEFAULT_LINK_TTL,
) -> Round:
    """Decide who to invite (every matching, verified, available expert): the links follow.

    Pass the result to :func:`complete_invitations` once the transaction has committed
    (``HubWork.invite_after_commit``); it reports the round in the staff topic.
    """
    _require_ready(community)
    if not community.fields:
        raise CommunityError("community_error_no_fields")
    assert community.id is not None
    chosen = Round(
        community_id=community.id, member_ids=[], now=now, lang=lang, tz=tz, link_ttl=link_ttl
    )
    for expert in await candidates(session=session, community=community):
        if await is_unreachable(session=session, chat_id=expert.telegram_user_id):
            chosen.failed.append((expert, render(lang, "community_expert_blocked")))
            continue
        shut = await shut_out_by(session=session, expert=expert, admitting=community)
        if shut:  # the hub would decline their request: no invitation they cannot use
            titles = [
                await community_title(session=session, community=other, lang=lang) for other in shut
            ]
            chosen.skipped.append((expert, titles))
            continue
        member = await _prepare(session, community, expert, now)
        assert member.id is not None
        chosen.member_ids.append(member.id)
    community.invitations_sent_at = now
    await save_community(session=session, community=community)
    return chosen


async def invite_one(
    *,
    session: AsyncSession,
    community: Community,
    expert: Expert,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    link_ttl: timedelta = DEFAULT_LINK_TTL,
) -> Round:
    """Decide to invite one verified expert chosen by staff, whatever their fields."""
    _require_ready(community)
    if not (expert.verified and expert.active):
        raise CommunityError("community_error_not_verified", name=expert.name)
    if await is_unreachable(session=session, chat_id=expert.telegram_user_id):
        raise CommunityError("community_error_blocked", name=expert.name)
    if expert.id in community.excluded:
        community.excluded = [value for value in community.excluded if value != expert.id]
        await save_community(session=session, community=community)
    member = await _prepare(session, community, expert, now)
    assert community.id is not None and member.id is not None
    return Round(
        community_id=community.id,
        member_ids=[member.id],
        now=now,
        lang=lang,
        tz=tz,
        link_ttl=link_ttl,
        one=True,
    )


@dataclass
class _Target:
    """What the hub calls for one "preparing" membership need."""

    chat_id: int
    user_id: int
    name: str
    invited_at: datetime


async def _target(steps: Steps, member_id: int) -> _Target | None:
    async with steps.tx() as session:
        member = await session.get(CommunityMember, member_id)
        if member is None or member.status != MemberStatus.PREPARING:
            return None  # completed meanwhile (the sweep, the next round)
        community = await get_community(session=session, community_id=member.community_id)
        if community is None:
            return None
        if community.state != CommunityState.OPEN:
            await _restore(session, member)  # closed meanwhile: no invitation to a closed room
            return None
        name = f"c{community.id}-e{member.expert_id}"[:32]
        return _Target(community.hub_chat_id, member.telegram_user_id, name, member.invited_at)


async def _restore(session: AsyncSession, member: CommunityMember) -> None:
    """Take back a "preparing" mark: the status it had, or no membership at all."""
    if member.prepared_from is None:
        await session.delete(member)
        await session.flush()
        return
    member.status = member.prepared_from
    member.prepared_from = None
    await save_member(session=session, member=member)


async def _record(
    steps: Steps,
    member_id: int,
    target: _Target,
    link: str | None,
    chosen: Round,
    briefs: dict[str, Brief],
) -> Expert | None:
    """Store the link (or the joining), queue the invitation; the expert, or None if not ours."""
    async with steps.tx() as session:
        member = await session.get(CommunityMember, member_id, with_for_update=True)
        if member is None or member.status != MemberStatus.PREPARING:
            return None
        if member.invited_at != target.invited_at:
            return None  # decided again since: that decision's own call completes it
        community = await get_community(session=session, community_id=member.community_id)
        expert = await session.get(Expert, member.expert_id) if member.expert_id else None
        assert community is not None and expert is not None
        in_hub = link is None
        if in_hub:
            link = topic_link(community.hub_chat_id, community.topic_id)
            member.status = MemberStatus.JOINED
            member.joined_at = target.invited_at
            member.invite_link = None
        else:
            member.status = MemberStatus.INVITED
            member.invite_link = link
        member.link_revoked = False
        member.prepared_from = None
        await save_member(session=session, member=member)
        if expert.language not in briefs:
            briefs[expert.language] = await build_brief(
                session=session,
                incident=await _incident(session, community),
                lang=expert.language,
                tz=chosen.tz,
            )
        await send_text(
            session=session,
            chat_id=expert.telegram_user_id,
            text=render(
                expert.language,
                "expert_invitation",
                brief=briefs[expert.language],
                link=link,
                in_hub=in_hub,
                expert=expert,
                fields=community.fields,
            ),
            priority=Priority.STAFF_NOTICE,
        )
        return expert


async def _refused(steps: Steps, member_id: int, target: _Target) -> Expert | None:
    """Take back a membership Telegram refused to prepare; the expert, or None if not ours."""
    async with steps.tx() as session:
        member = await session.get(CommunityMember, member_id, with_for_update=True)
        if member is None or member.status != MemberStatus.PREPARING:
            return None
        if member.invited_at != target.invited_at:
            return None
        expert = await session.get(Expert, member.expert_id) if member.expert_id else None
        await _restore(session, member)
        return expert


async def complete_invitations(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    chosen: Round,
    turn: Turn | None = None,
) -> InvitationReport:
    """Make the decided invitations' hub calls outside any transaction; record and report them.

    For each "preparing" membership: is the expert in the hub already (``getChatMember``)? if
    not, a join-request link (``createChatInviteLink``); then, in a short transaction, the link
    is stored and the invitation queued. A membership completed meanwhile by another worker is
    left alone (a link made for it here is revoked). The staff topic then gets the round's
    report, or for ``/invite`` "invited" or Telegram's refusal.
    """
    steps = Steps(session_factory, turn)
    report = InvitationReport(failed=list(chosen.failed), skipped=list(chosen.skipped))
    refusal: str | None = None
    briefs: dict[str, Brief] = {}
    for member_id in chosen.member_ids:
        target = await _target(steps, member_id)
        if target is None:
            continue
        link: str | None = None
        try:
            status = await hub.member_status(chat_id=target.chat_id, user_id=target.user_id)
            if status not in PRESENT_STATUSES:
                link = await hub.create_invite_link(
                    chat_id=target.chat_id,
                    name=target.name,
                    expire_date=chosen.now + chosen.link_ttl,
                )
        except HubError as error:
            expert = await _refused(steps, member_id, target)
            if expert is not None:
                report.failed.append((expert, str(error)))
                refusal = str(error)
            continue
        expert = await _record(steps, member_id, target, link, chosen, briefs)
        if expert is None:
            if link is not None:  # another worker stored its own link: this one is not used
                with contextlib.suppress(HubError):
                    await hub.revoke_invite_link(chat_id=target.chat_id, invite_link=link)
            continue
        (report.in_hub if link is None else report.invited).append(expert)
    await _report(steps, chosen, report, refusal)
    return report


async def _report(
    steps: Steps, chosen: Round, report: InvitationReport, refusal: str | None
) -> None:
    """Tell the staff topic what the round did (the same words as before the move)."""
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=chosen.community_id)
        if community is None:
            return
        if not chosen.one:
            text = render(chosen.lang, "community_invitations_sent", report=report)
        elif refusal is not None:
            text = render(chosen.lang, "community_error_hub", detail=refusal)
        elif report.total:
            [expert] = report.invited or report.in_hub
            text = render(chosen.lang, "community_invited_one", member=expert)
        else:
            return  # completed by another worker, which reports it
        await tell_staff(session=session, community=community, text=text)


async def finish_invitations(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    link_ttl: timedelta = DEFAULT_LINK_TTL,
    turn: Turn | None = None,
) -> int:
    """Complete the invitations a dead worker left "preparing" (the sweep's part).

    Only those decided more than :data:`PREPARING_LEASE` ago: younger ones are still on their
    way. Each community's staff topic gets a report of what was completed.
    """
    steps = Steps(session_factory, turn)
    async with steps.tx() as session:
        left = await preparing_members(session=session, decided_before=now - PREPARING_LEASE)
        by_community: dict[int, list[int]] = {}
        for member in left:
            assert member.id is not None
            by_community.setdefault(member.community_id, []).append(member.id)
    done = 0
    for community_id, member_ids in by_community.items():
        report = await complete_invitations(
            hub=hub,
            session_factory=session_factory,
            chosen=Round(
                community_id=community_id,
                member_ids=member_ids,
                now=now,
                lang=lang,
                tz=tz,
                link_ttl=link_ttl,
            ),
            turn=turn,
        )
        done += report.total
    return done


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
