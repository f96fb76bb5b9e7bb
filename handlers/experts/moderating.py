"""Moderation commands that the community's hub topic and its staff topic share.

Staff moderate a community from either topic: /mute, /unmute, /remove a member, /del or /pin a
message, /readonly on|off, /decision, and close it. The topics differ only in how a command
names its target (a reply in the hub, an id in the staff topic) and in how they answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.settings import Settings
from community import moderation
from community.errors import CommunityError
from community.hub_work import HubWork
from community.lifecycle import close_community
from community.ports import HubAdmin
from storage.models.communities import Community
from storage.models.staff import StaffMember

MEMBER_ACTIONS = {"mute": moderation.mute, "unmute": moderation.unmute, "remove": moderation.remove}


async def moderate(
    name: str,
    *,
    args: str | None,
    user: tuple[int, str] | None,
    message_id: int | None,
    session: Any,
    hub: HubAdmin,
    community: Community,
    staff_member: StaffMember,
    now: datetime,
    lang: str,
    work: HubWork | None,
    message_by_id: bool = False,
) -> str | None:
    """Carry out /mute /unmute /remove /del /pin /readonly /decision; None for any other name.

    ``user`` (id, name) is the member a command is about and ``message_id`` the message;
    ``message_by_id`` when it was named by its id (it must then be in the transcript, and the
    staff topic is told when it is done). Returns "done", or "later" for the Telegram calls
    made once the update has committed (their outcome is told then).
    """
    if name in MEMBER_ACTIONS or name == "del":
        assert work is not None, "the dispatcher provides hub_work"
        if name == "del":
            if message_id is None:
                raise CommunityError("community_error_no_target")
            action = await moderation.delete_message(
                session=session,
                community=community,
                message_id=message_id,
                stored_only=message_by_id,
                lang=lang,
                answer=message_by_id,
            )
        else:
            if user is None:
                raise CommunityError("community_error_no_target")
            action = await MEMBER_ACTIONS[name](
                session=session,
                community=community,
                user_id=user[0],
                now=now,
                name=user[1],
                lang=lang,
                answer=message_by_id,
            )
        work.carry_out_after_commit(session, hub=hub, action=action)
        return "later"
    if name == "pin":
        if message_id is None:
            raise CommunityError("community_error_no_target")
        await moderation.pin_message(
            session=session,
            community=community,
            message_id=message_id,
            stored_only=message_by_id,
        )
    elif name == "readonly":
        on = (args or "on").strip().lower() not in ("off", "0", "no")
        await moderation.set_readonly(session=session, community=community, readonly=on, lang=lang)
    elif name == "decision":
        await moderation.record_decision(
            session=session,
            community=community,
            now=now,
            actor_id=staff_member.telegram_user_id,
            actor_name=staff_member.name,
            text=(args or "").strip() or None,
            message_id=message_id,
            lang=lang,
        )
    else:
        return None
    return "done"


async def close_by_staff(
    *,
    session: Any,
    hub: HubAdmin,
    community: Community,
    staff_member: StaffMember,
    now: datetime,
    settings: Settings,
    work: HubWork | None = None,
) -> None:
    """Close the community on a staff member's word (``work`` tidies the hub after the commit)."""
    await close_community(
        session=session,
        hub=hub,
        work=work,
        community=community,
        now=now,
        actor_id=staff_member.telegram_user_id,
        reason="staff",
        lang=settings.default_language,
        tz=settings.timezone,
    )
