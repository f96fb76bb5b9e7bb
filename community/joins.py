"""Join requests to the hub: decided in the update's transaction, answered after it commits.

Usage::

    request = await decide_join_request(session=session, chat_id=hub_id, user_id=42,
                                        invite_link=url, now=now)
    work.answer_join_after_commit(session, hub=hub, request_id=request.id, now=now)
    # ... the session commits; then, outside any transaction:
    await answer_join_request(hub=hub, session_factory=factory, request_id=7, now=now)

    await finish_join_requests(hub=hub, session_factory=factory, now=now)  # the sweep's part

The update stores the decision (a ``hub_join_request`` row, pending) and commits. The approval
or decline is called with no transaction open and its outcome recorded in a short one, with the
notices that follow it (the applicant's, then the staff topic's). The row is claimed for
:data:`LEASE` before the call, so the sweep leaves a call in flight alone; a request whose
worker died between the commit and the record stays pending and the sweep answers it (Telegram
keeps a join request pending until it is answered). The decision is made again when the request
is claimed: the community may have closed, or staff shut the expert out, since. A request
Telegram no longer knows (withdrawn, or answered already) is recorded as gone, not retried; an
approval that was made before the worker died is recognised by the expert being in the hub, and
a decline an earlier claim called is finished as declined: the applicant is sent its reason.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from community.brief import community_title, topic_link
from community.invitations import shut_out_by
from community.outgoing import send_text, tell_staff
from community.ports import PRESENT_STATUSES, HubAdmin, HubError
from community.steps import Steps, Turn
from situation.texts import render
from storage.communities import (
    get_community,
    get_join_request,
    invitations_of_user,
    member_by_link,
    pending_join_requests,
    save_join_request,
    save_member,
)
from storage.experts import get_expert_by_user
from storage.models.communities import (
    Community,
    CommunityMember,
    CommunityState,
    HubJoinRequest,
    JoinAnswer,
    MemberStatus,
)
from storage.models.experts import Expert
from storage.models.outbox import Priority

LEASE = timedelta(minutes=2)  # a claimed request is left to its caller this long


@dataclass
class _Verdict:
    """What to answer a join request, and what the answer is about."""

    reason: str | None  # None: approve
    language: str
    expert: Expert | None = None
    member: CommunityMember | None = None
    community: Community | None = None
    shut: list[Community] = field(default_factory=list)


async def _invitation_for(
    session: AsyncSession, user_id: int, invite_link: str | None
) -> tuple[CommunityMember, Community] | None:
    if invite_link:
        member = await member_by_link(session=session, invite_link=invite_link)
        if member is not None and member.telegram_user_id == user_id:
            community = await get_community(session=session, community_id=member.community_id)
            if community is not None:
                return member, community
    pending = await invitations_of_user(session=session, telegram_user_id=user_id)
    return pending[0] if pending else None


def _decide(expert: Expert | None, found: tuple[CommunityMember, Community] | None) -> str | None:
    if expert is None:
        return "not_registered"
    if not expert.active:
        return "rejected"  # a lead refused the registration: nobody is going to verify it
    if not expert.verified:
        return "not_verified"
    if found is None:
        return "not_invited"
    member, community = found
    if community.state != CommunityState.OPEN:
        return "closed"
    if member.status != MemberStatus.INVITED:
        return "not_invited"
    return None


async def _judge(
    session: AsyncSession, user_id: int, invite_link: str | None, lang: str
) -> _Verdict:
    """Approve an invited, verified expert nobody shut out; anyone else is declined, and why."""
    expert = await get_expert_by_user(session=session, telegram_user_id=user_id)
    found = await _invitation_for(session, user_id, invite_link)
    reason = _decide(expert, found)
    language = expert.language if expert is not None else lang
    if reason is not None:
        return _Verdict(reason=reason, language=language, expert=expert)
    assert found is not None and expert is not None
    member, community = found
    shut = await shut_out_by(session=session, expert=expert, admitting=community)
    return _Verdict(
        reason="shut_out" if shut else None,
        language=language,
        expert=expert,
        member=member,
        community=community,
        shut=shut,
    )


async def decide_join_request(
    *,
    session: AsyncSession,
    chat_id: int,
    user_id: int,
    invite_link: str | None,
    now: datetime,
    lang: str = "ko",
    staff_lang: str = "ko",
) -> HubJoinRequest:
    """Store what to answer a join request to the hub (the answer follows the commit)."""
    # Telegram holds one pending request per person and chat: a new one ends the older ones.
    for older in await pending_join_requests(
        session=session, hub_chat_id=chat_id, telegram_user_id=user_id
    ):
        older.state = JoinAnswer.GONE
        older.answered_at = now
        await save_join_request(session=session, request=older)
    verdict = await _judge(session, user_id, invite_link, lang)
    return await save_join_request(
        session=session,
        request=HubJoinRequest(
            hub_chat_id=chat_id,
            telegram_user_id=user_id,
            invite_link=invite_link,
            community_id=verdict.community.id if verdict.community is not None else None,
            approve=verdict.reason is None,
            reason=verdict.reason or "invited",
            language=verdict.language,
            staff_language=staff_lang,
            requested_at=now,
        ),
    )


async def _shut_out(
    session: AsyncSession,
    community: Community,
    expert: Expert,
    shut: list[Community],
    staff_lang: str,
) -> None:
    """Tell the expert the hub is closed to them for now, and the inviting staff why."""
    await send_text(
        session=session,
        chat_id=expert.telegram_user_id,
        text=render(expert.language, "expert_join_declined", reason="shut_out"),
        priority=Priority.CITIZEN_REPLY,
    )
    titles = [
        await community_title(session=session, community=other, lang=staff_lang) for other in shut
    ]
    await tell_staff(
        session=session,
        community=community,
        text=render(
            staff_lang,
            "community_join_shut_out",
            expert=expert,
            title=await community_title(session=session, community=community, lang=staff_lang),
            shut=titles,
        ),
    )


async def _approval_refused(
    session: AsyncSession, community: Community, expert: Expert, detail: str, staff_lang: str
) -> None:
    """Tell the expert and the staff topic that Telegram refused to let an invited expert in."""
    await send_text(
        session=session,
        chat_id=expert.telegram_user_id,
        text=render(
            expert.language,
            "expert_join_refused",
            title=await community_title(session=session, community=community, lang=expert.language),
        ),
        priority=Priority.CITIZEN_REPLY,
    )
    await tell_staff(
        session=session,
        community=community,
        text=render(staff_lang, "community_join_refused", expert=expert, detail=detail),
    )


async def _approved(
    session: AsyncSession,
    request: HubJoinRequest,
    member_id: int,
    link_revoked: bool,
    now: datetime,
    *,
    also: bool = False,
) -> bool:
    """Record an approval (the member joined) and tell both sides; False if recorded already.

    ``also``: another pending invitation of the admitted expert, joined because whoever is in
    the hub reads every community's topic (only if it is still pending and its community open).
    """
    member = await session.get(CommunityMember, member_id, with_for_update=True)
    if member is None or member.status == MemberStatus.JOINED:
        return False  # another request of theirs recorded it
    community = await get_community(session=session, community_id=member.community_id)
    expert = await get_expert_by_user(session=session, telegram_user_id=member.telegram_user_id)
    assert community is not None and expert is not None
    if also and (member.status != MemberStatus.INVITED or community.state != CommunityState.OPEN):
        return False  # another invitation of theirs: closed, or staff changed it, since
    member.status = MemberStatus.JOINED
    member.joined_at = now
    member.link_revoked = member.link_revoked or link_revoked
    await save_member(session=session, member=member)
    language = request.language
    await send_text(
        session=session,
        chat_id=request.telegram_user_id,
        text=render(
            language,
            "expert_join_approved",
            title=await community_title(session=session, community=community, lang=language),
            link=topic_link(community.hub_chat_id, community.topic_id),
        ),
        priority=Priority.CITIZEN_REPLY,
    )
    await tell_staff(
        session=session,
        community=community,
        text=render(request.staff_language, "community_member_joined", expert=expert),
    )
    return True


async def _declined(session: AsyncSession, request: HubJoinRequest, shut_ids: list[int]) -> None:
    """Tell the applicant why they were declined (and the inviting staff, when shut out)."""
    if request.reason == "shut_out" and request.community_id is not None:
        community = await get_community(session=session, community_id=request.community_id)
        expert = await get_expert_by_user(
            session=session, telegram_user_id=request.telegram_user_id
        )
        assert community is not None and expert is not None
        shut = [
            other
            for other_id in shut_ids
            if (other := await get_community(session=session, community_id=other_id)) is not None
        ]
        await _shut_out(session, community, expert, shut, request.staff_language)
        return
    await send_text(
        session=session,
        chat_id=request.telegram_user_id,
        text=render(request.language, "expert_join_declined", reason=request.reason),
        priority=Priority.CITIZEN_REPLY,
    )


@dataclass
class _Claim:
    """A claimed request: what to call, and what the outcome is about."""

    chat_id: int
    user_id: int
    approve: bool
    member_id: int | None
    link: str | None  # the member's unused invite link, revoked after the approval
    shut_ids: list[int]
    # The reason of a decline an earlier claim called and did not live to record: if Telegram
    # no longer knows the request, that decline was made, and its reason is still to be sent.
    earlier_decline: str | None = None
    # The applicant's other pending invitations to open communities (member id, unused link):
    # once in the hub they read those topics too, so an approval joins them there as well.
    others: list[tuple[int, str | None]] = field(default_factory=list)


async def _claim(steps: Steps, request_id: int, now: datetime) -> _Claim | None:
    """Claim a pending request for :data:`LEASE` and decide it again; None if not ours."""
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id, for_update=True)
        if request is None or request.state != JoinAnswer.PENDING:
            return None
        if request.claimed_at is not None and request.claimed_at > now - LEASE:
            return None  # another worker's call is on its way
        earlier_decline = (
            request.reason if request.claimed_at is not None and not request.approve else None
        )
        verdict = await _judge(
            session, request.telegram_user_id, request.invite_link, request.language
        )
        request.claimed_at = now
        request.approve = verdict.reason is None
        request.reason = verdict.reason or "invited"
        request.language = verdict.language
        if verdict.community is not None:
            request.community_id = verdict.community.id
        await save_join_request(session=session, request=request)
        member = verdict.member
        others = (
            [
                (other.id, other.invite_link if not other.link_revoked else None)
                for other, community in await invitations_of_user(
                    session=session, telegram_user_id=request.telegram_user_id
                )
                if other.id is not None
                and other.id != member.id
                and community.hub_chat_id == request.hub_chat_id
            ]
            if request.approve and member is not None
            else []
        )
        return _Claim(
            chat_id=request.hub_chat_id,
            user_id=request.telegram_user_id,
            approve=request.approve,
            member_id=member.id if member is not None else None,
            link=member.invite_link
            if member is not None and member.invite_link and not member.link_revoked
            else None,
            shut_ids=[other.id for other in verdict.shut if other.id is not None],
            earlier_decline=earlier_decline,
            others=others,
        )


async def answer_join_request(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    request_id: int,
    now: datetime,
    turn: Turn | None = None,
) -> str | None:
    """Answer a stored join request outside any transaction; record the outcome and tell.

    Returns the state recorded, or None when the request was not ours to answer (answered, or
    claimed by another worker).
    """
    steps = Steps(session_factory, turn)
    claim = await _claim(steps, request_id, now)
    if claim is None:
        return None
    refused: HubError | None = None
    try:
        if claim.approve:
            await hub.approve_join_request(chat_id=claim.chat_id, user_id=claim.user_id)
        else:
            await hub.decline_join_request(chat_id=claim.chat_id, user_id=claim.user_id)
    except HubError as error:  # told below (a refused approval: staff invite again)
        refused = error
    admitted = claim.approve and (
        refused is None
        # Gone after an approval: approved already, by a worker that died before recording it?
        or (
            refused.gone
            and await hub.member_status(chat_id=claim.chat_id, user_id=claim.user_id)
            in PRESENT_STATUSES
        )
    )
    link_revoked = False
    if admitted and claim.link:
        with contextlib.suppress(HubError):  # an expired link is unusable anyway
            await hub.revoke_invite_link(chat_id=claim.chat_id, invite_link=claim.link)
        link_revoked = True
    others_revoked = {other_id: False for other_id, _ in claim.others}
    for other_id, other_link in claim.others if admitted else []:
        if other_link:
            with contextlib.suppress(HubError):  # the closing's tidy revokes what is left
                await hub.revoke_invite_link(chat_id=claim.chat_id, invite_link=other_link)
                others_revoked[other_id] = True
    async with steps.tx() as session:
        request = await get_join_request(session=session, request_id=request_id, for_update=True)
        if request is None or request.state != JoinAnswer.PENDING:
            return None  # recorded meanwhile (a newer request of the same person)
        request.answered_at = now
        if admitted:
            assert claim.member_id is not None
            told = await _approved(session, request, claim.member_id, link_revoked, now)
            request.state = JoinAnswer.APPROVED if told else JoinAnswer.GONE
            for other_id, revoked in others_revoked.items() if told else ():
                await _approved(session, request, other_id, revoked, now, also=True)
        elif refused is not None and refused.gone and claim.earlier_decline is not None:
            # Declined by a worker that died before recording it: the applicant hears why now,
            # as from a live decline (once: only the first to record a pending request tells).
            request.approve = False
            request.reason = claim.earlier_decline
            await _declined(session, request, claim.shut_ids)
            request.state = JoinAnswer.DECLINED
        elif refused is not None and refused.gone:
            request.state = JoinAnswer.GONE  # withdrawn or answered elsewhere: nothing to tell
        elif claim.approve:
            assert refused is not None and request.community_id is not None
            community = await get_community(session=session, community_id=request.community_id)
            expert = await get_expert_by_user(session=session, telegram_user_id=claim.user_id)
            assert community is not None and expert is not None
            await _approval_refused(
                session, community, expert, str(refused), request.staff_language
            )
            request.state = JoinAnswer.REFUSED
        else:
            # The reason is sent even when Telegram fails the decline: the request stays
            # pending, but the applicant knows why it will not be approved.
            await _declined(session, request, claim.shut_ids)
            request.state = JoinAnswer.DECLINED
        await save_join_request(session=session, request=request)
        return request.state


async def finish_join_requests(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    now: datetime,
    turn: Turn | None = None,
) -> int:
    """Answer every join request left pending (the sweep's part); return how many were."""
    steps = Steps(session_factory, turn)
    async with steps.tx() as session:
        waiting = [
            request.id
            for request in await pending_join_requests(session=session)
            if request.id is not None
            and (request.claimed_at is None or request.claimed_at <= now - LEASE)
        ]
    answered = 0
    for request_id in waiting:
        state = await answer_join_request(
            hub=hub, session_factory=session_factory, request_id=request_id, now=now, turn=turn
        )
        answered += state is not None
    return answered
