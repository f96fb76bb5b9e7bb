"""Moderation by the staff on duty: mute, unmute, remove, delete, pin, read-only, decisions.

Usage (inside the update's transaction)::

    action = await mute(session=session, community=community, user_id=42, now=now)
    work.carry_out_after_commit(session, hub=hub, action=action)  # the call, after the commit
    await set_readonly(session=session, community=community, readonly=True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from community.errors import CommunityError
from community.outgoing import pin as queue_pin
from community.outgoing import send_text, tell_staff
from community.outgoing import topic_state as queue_topic_state
from community.ports import HubAdmin
from community.transcript import mark, record_message
from situation.texts import render
from storage.communities import find_message, get_member, save_community, save_member
from storage.models.communities import (
    Community,
    CommunityMember,
    CommunityState,
    MemberRole,
    MemberStatus,
)


def _require_open(community: Community) -> None:
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")


async def _notice(session: AsyncSession, community: Community, text: str) -> None:
    if community.topic_id is not None:
        await send_text(
            session=session, chat_id=community.hub_chat_id, thread_id=community.topic_id, text=text
        )


async def _member(
    session: AsyncSession, community: Community, user_id: int, name: str
) -> CommunityMember:
    assert community.id is not None
    member = await get_member(session=session, community_id=community.id, telegram_user_id=user_id)
    if member is None:
        member = CommunityMember(
            community_id=community.id,
            telegram_user_id=user_id,
            name=name,
            role=MemberRole.OTHER,
            status=MemberStatus.JOINED,
        )
    return member


@dataclass(frozen=True)
class HubAction:
    """A member or message action for Telegram, decided in the update's transaction.

    The update stores what it decided and commits; :func:`community.hub_work.carry_out` then
    makes the call outside any transaction and records its outcome with :func:`record_done`
    or :func:`record_refused`. What the first transaction stored errs on the safe side: a
    mute or a removal is stored before the call (a dying worker leaves it for the next press
    or the closing's tidy to complete), an unmute only after it.
    """

    kind: str  # "mute", "unmute", "remove" or "delete"
    community_id: int
    chat_id: int
    user_id: int = 0
    message_id: int = 0
    name: str = ""
    lang: str = "ko"
    answer: bool = False  # also say "done" in the staff topic (the command came from there)
    before: tuple[Any, ...] = ()  # what the first transaction changed, restored on a refusal
    link: str | None = None  # a removed member's unused invite link, revoked after the removal


async def _set_muted(
    session: AsyncSession,
    community: Community,
    user_id: int,
    name: str,
    lang: str,
    answer: bool,
    *,
    muted: bool,
) -> HubAction:
    _require_open(community)
    assert community.id is not None
    member = await _member(session, community, user_id, name)
    was_muted = member.muted
    if muted:  # stored before the call: whatever happens next, the closing lifts it
        member.muted = True
    await save_member(session=session, member=member)
    return HubAction(
        kind="mute" if muted else "unmute",
        community_id=community.id,
        chat_id=community.hub_chat_id,
        user_id=user_id,
        name=name,
        lang=lang,
        answer=answer,
        before=(was_muted,),
    )


async def mute(
    *,
    session: AsyncSession,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
    answer: bool = False,
) -> HubAction:
    """Decide to stop a member from writing in the hub (the call follows the commit)."""
    return await _set_muted(session, community, user_id, name, lang, answer, muted=True)


async def unmute(
    *,
    session: AsyncSession,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
    answer: bool = False,
) -> HubAction:
    """Decide to let a muted member write again (the call follows the commit)."""
    return await _set_muted(session, community, user_id, name, lang, answer, muted=False)


async def remove(
    *,
    session: AsyncSession,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
    answer: bool = False,
) -> HubAction:
    """Decide to remove a member from the hub (they come back only with a new invitation).

    The removal is stored at once (their join requests are declined from now on); the call
    follows the commit, and a refusal restores the membership.
    """
    _require_open(community)
    assert community.id is not None
    member = await _member(session, community, user_id, name)
    before = (member.status, member.left_at)
    member.status = MemberStatus.REMOVED
    member.left_at = now
    await save_member(session=session, member=member)
    live = member.invite_link if member.invite_link and not member.link_revoked else None
    return HubAction(
        kind="remove",
        community_id=community.id,
        chat_id=community.hub_chat_id,
        user_id=user_id,
        name=name,
        lang=lang,
        answer=answer,
        before=before,
        link=live,
    )


async def _require_stored(session: AsyncSession, community: Community, message_id: int) -> None:
    """Refuse a message id that is not in this community's transcript (another topic's, a typo)."""
    assert community.id is not None
    if (
        await find_message(session=session, community_id=community.id, message_id=message_id)
        is None
    ):
        raise CommunityError("community_error_unknown_message")


async def delete_message(
    *,
    session: AsyncSession,
    community: Community,
    message_id: int,
    stored_only: bool = False,
    lang: str = "ko",
    answer: bool = False,
) -> HubAction:
    """Decide to delete a message in the topic (the transcript keeps it, marked deleted).

    ``stored_only`` (a message named by its id, not by a reply in the topic) refuses any
    message the community's transcript does not hold: the hub holds every community's topics.
    The mark is stored at once; the call follows the commit, and a refusal takes the mark back.
    """
    if stored_only:
        await _require_stored(session, community, message_id)
    assert community.id is not None
    entry = await find_message(session=session, community_id=community.id, message_id=message_id)
    was_deleted = entry.deleted if entry is not None else None
    await mark(session=session, community=community, message_id=message_id, deleted=True)
    return HubAction(
        kind="delete",
        community_id=community.id,
        chat_id=community.hub_chat_id,
        message_id=message_id,
        lang=lang,
        answer=answer,
        before=(was_deleted,),
    )


async def call(hub: HubAdmin, action: HubAction) -> None:
    """Make the Telegram call of ``action`` (raises :class:`HubError` on a refusal)."""
    if action.kind in ("mute", "unmute"):
        await hub.restrict(
            chat_id=action.chat_id, user_id=action.user_id, can_send=action.kind == "unmute"
        )
    elif action.kind == "remove":
        await hub.remove(chat_id=action.chat_id, user_id=action.user_id)
    else:
        await hub.delete_message(chat_id=action.chat_id, message_id=action.message_id)


async def _stored_member(session: AsyncSession, action: HubAction) -> CommunityMember | None:
    return await get_member(
        session=session, community_id=action.community_id, telegram_user_id=action.user_id
    )


async def record_done(
    *, session: AsyncSession, community: Community, action: HubAction, link_revoked: bool
) -> None:
    """Record that Telegram carried ``action`` out, and say so in the topic (and staff topic)."""
    lang = action.lang
    member = await _stored_member(session, action) if action.user_id else None
    if action.kind == "unmute" and member is not None and member.muted:
        member.muted = False
        await save_member(session=session, member=member)
    if action.kind == "mute" and member is not None and not member.muted:
        # Lifted while the call was on its way (the community closed and its mutes were
        # lifted, or an /unmute overtook it): Telegram enforces this mute now, so the row
        # says so again; a closed community's sweep lifts it, an open one's /unmute does.
        member.muted = True
        await save_member(session=session, member=member)
    revoked = action.kind == "remove" and link_revoked
    if revoked and member is not None and member.invite_link == action.link:
        member.link_revoked = True
        await save_member(session=session, member=member)
    notices = {"mute": "community_muted", "unmute": "community_unmuted"}
    notices["remove"] = "community_removed"
    if action.kind in notices:
        shown = member or CommunityMember(
            community_id=action.community_id, telegram_user_id=action.user_id, name=action.name
        )
        await _notice(session, community, render(lang, notices[action.kind], member=shown))
    if action.answer:
        await tell_staff(session=session, community=community, text=render(lang, "community_done"))


async def record_refused(
    *, session: AsyncSession, community: Community, action: HubAction, detail: str
) -> None:
    """Undo what the first transaction stored for a refused ``action`` and tell the staff."""
    member = await _stored_member(session, action) if action.user_id else None
    if action.kind == "mute" and member is not None and member.muted and not action.before[0]:
        member.muted = False
        await save_member(session=session, member=member)
    if action.kind == "remove" and member is not None and member.status == MemberStatus.REMOVED:
        member.status, member.left_at = action.before
        await save_member(session=session, member=member)
    if action.kind == "delete" and action.before[0] is False:
        await mark(
            session=session, community=community, message_id=action.message_id, deleted=False
        )
    await tell_staff(
        session=session,
        community=community,
        text=render(
            action.lang,
            "community_action_refused",
            kind=action.kind,
            who=(member.name if member is not None else "") or action.name or action.user_id,
            message_id=action.message_id,
            detail=detail,
        ),
    )


async def pin_message(
    *, session: AsyncSession, community: Community, message_id: int, stored_only: bool = False
) -> None:
    """Pin a message of the topic and mark it as key in the transcript (``stored_only``: as
    for :func:`delete_message`)."""
    _require_open(community)
    if stored_only:
        await _require_stored(session, community, message_id)
    await queue_pin(
        session=session,
        chat_id=community.hub_chat_id,
        thread_id=community.topic_id,
        message_id=message_id,
    )
    await mark(session=session, community=community, message_id=message_id, pinned=True)


async def set_readonly(
    *, session: AsyncSession, community: Community, readonly: bool, lang: str = "ko"
) -> Community:
    """Make the topic read-only (closed to non-admins) or writable again."""
    _require_open(community)
    if community.topic_id is None or community.readonly == readonly:
        return community
    community.readonly = readonly
    await save_community(session=session, community=community)
    name = "community_readonly_on" if readonly else "community_readonly_off"
    if readonly:
        await _notice(session, community, render(lang, name))
    await queue_topic_state(
        session=session,
        chat_id=community.hub_chat_id,
        thread_id=community.topic_id,
        closed=readonly,
    )
    if not readonly:
        await _notice(session, community, render(lang, name))
    return community


async def record_decision(
    *,
    session: AsyncSession,
    community: Community,
    now: datetime,
    actor_id: int,
    actor_name: str,
    text: str | None = None,
    message_id: int | None = None,
    lang: str = "ko",
) -> None:
    """Mark a message (by id) as a decision, or announce and record a decision's text."""
    _require_open(community)
    if message_id is not None and not text:
        entry = await mark(
            session=session, community=community, message_id=message_id, decision=True
        )
        if entry is None:
            raise CommunityError("community_error_unknown_message")
        await _notice(session, community, render(lang, "community_decision", text=entry.text))
        return
    if not text:
        raise CommunityError("community_usage_decision")
    await record_message(
        session=session,
        community=community,
        message_id=None,
        author_id=actor_id,
        author_name=actor_name,
        author_role=MemberRole.STAFF,
        kind="decision",
        text=text,
        now=now,
        decision=True,
    )
    await _notice(session, community, render(lang, "community_decision", text=text))
