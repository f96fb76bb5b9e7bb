"""Moderation by the staff on duty: mute, unmute, remove, delete, pin, read-only, decisions.

Usage (inside the update's transaction)::

    await mute(session=session, hub=hub, community=community, user_id=42, now=now)
    await set_readonly(session=session, community=community, readonly=True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from community.errors import CommunityError
from community.outgoing import pin as queue_pin
from community.outgoing import send_text
from community.outgoing import topic_state as queue_topic_state
from community.ports import HubAdmin, HubError
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


async def _hub(action: Awaitable[None]) -> None:
    try:
        await action
    except HubError as error:
        raise CommunityError("community_error_hub", detail=str(error)) from error


async def _set_muted(
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    user_id: int,
    name: str,
    lang: str,
    *,
    muted: bool,
) -> CommunityMember:
    _require_open(community)
    await _hub(hub.restrict(chat_id=community.hub_chat_id, user_id=user_id, can_send=not muted))
    member = await _member(session, community, user_id, name)
    member.muted = muted
    await save_member(session=session, member=member)
    notice = "community_muted" if muted else "community_unmuted"
    await _notice(session, community, render(lang, notice, member=member))
    return member


async def mute(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
) -> CommunityMember:
    """Stop a member from writing in the hub."""
    return await _set_muted(session, hub, community, user_id, name, lang, muted=True)


async def unmute(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
) -> CommunityMember:
    """Let a muted member write again."""
    return await _set_muted(session, hub, community, user_id, name, lang, muted=False)


async def remove(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    community: Community,
    user_id: int,
    now: datetime,
    name: str = "",
    lang: str = "ko",
) -> CommunityMember:
    """Remove a member from the hub (they come back only with a new invitation)."""
    _require_open(community)
    await _hub(hub.remove(chat_id=community.hub_chat_id, user_id=user_id))
    member = await _member(session, community, user_id, name)
    member.status = MemberStatus.REMOVED
    member.left_at = now
    if member.invite_link and not member.link_revoked:
        with contextlib.suppress(HubError):  # an expired link is unusable anyway
            await hub.revoke_invite_link(
                chat_id=community.hub_chat_id, invite_link=member.invite_link
            )
        member.link_revoked = True
    await save_member(session=session, member=member)
    await _notice(session, community, render(lang, "community_removed", member=member))
    return member


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
    hub: HubAdmin,
    community: Community,
    message_id: int,
    stored_only: bool = False,
) -> None:
    """Delete a message in the topic (the transcript keeps it, marked deleted).

    ``stored_only`` (a message named by its id, not by a reply in the topic) refuses any
    message the community's transcript does not hold: the hub holds every community's topics.
    """
    if stored_only:
        await _require_stored(session, community, message_id)
    await _hub(hub.delete_message(chat_id=community.hub_chat_id, message_id=message_id))
    await mark(session=session, community=community, message_id=message_id, deleted=True)


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
