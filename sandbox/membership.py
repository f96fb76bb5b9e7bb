"""Chat membership: ChatMember JSON, status changes, chat_member/my_chat_member updates."""

from __future__ import annotations

from typing import Any

from sandbox.jsonutil import drop_none
from sandbox.messaging import bots_in_chat, deliver, post_message
from sandbox.state import (
    ADMIN_RIGHTS,
    MEMBER_PERMISSIONS,
    Chat,
    InviteLink,
    Member,
    World,
)

DEFAULT_PERMISSIONS = {
    name: name not in ("can_change_info", "can_pin_messages", "can_manage_topics")
    for name in MEMBER_PERMISSIONS
}


def member_json(world: World, chat: Chat, member: Member) -> dict[str, Any]:
    """Return the Bot API ``ChatMember`` object for a membership."""
    user = world.users[member.user_id].to_json()
    if member.status == "creator":
        return drop_none(
            {
                "status": "creator",
                "user": user,
                "is_anonymous": False,
                "custom_title": member.custom_title,
            }
        )
    if member.status == "administrator":
        rights = {name: bool(member.rights.get(name, False)) for name in ADMIN_RIGHTS}
        if chat.type != "supergroup":
            rights.pop("can_manage_topics")
        return drop_none(
            {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                **rights,
                "custom_title": member.custom_title,
            }
        )
    if member.status == "restricted":
        perms = {
            name: bool(member.permissions.get(name, DEFAULT_PERMISSIONS[name]))
            for name in MEMBER_PERMISSIONS
        }
        return {
            "status": "restricted",
            "user": user,
            "is_member": member.is_member,
            **perms,
            "until_date": member.until_date,
        }
    if member.status == "kicked":
        return {"status": "kicked", "user": user, "until_date": member.until_date}
    if member.status == "left":
        return {"status": "left", "user": user}
    return drop_none({"status": "member", "user": user, "until_date": member.until_date or None})


def effective_permissions(chat: Chat, member: Member | None) -> dict[str, bool]:
    """Return what a member may do: chat defaults, narrowed by their restrictions."""
    base = {**DEFAULT_PERMISSIONS, **chat.permissions}
    if member is not None and member.status == "restricted":
        return {name: base[name] and member.permissions.get(name, True) for name in base}
    if member is not None and member.status in ("creator", "administrator"):
        return dict.fromkeys(base, True)
    return base


async def change_member(
    world: World,
    chat: Chat,
    new: Member,
    actor_id: int,
    *,
    invite_link: InviteLink | None = None,
    via_join_request: bool | None = None,
    service_message: bool = True,
) -> None:
    """Set a user's membership and emit chat_member/my_chat_member and service messages."""
    old = chat.members.get(new.user_id) or Member(user_id=new.user_id, status="left")
    old_json = member_json(world, chat, old)
    was_present = old.present
    chat.members[new.user_id] = new
    payload: dict[str, Any] = {
        "chat": world.chat_json(chat),
        "from": world.users[actor_id].to_json(),
        "date": world.now(),
        "old_chat_member": old_json,
        "new_chat_member": member_json(world, chat, new),
    }
    if invite_link is not None:
        payload["invite_link"] = invite_link.to_json(world)
    if via_join_request:
        payload["via_join_request"] = True
    for bot, bot_member in bots_in_chat(world, chat):
        if bot.user.id == new.user_id:
            continue
        if bot_member.status in ("creator", "administrator"):
            await deliver(world, bot, "chat_member", payload)
    target_bot = world.bots_by_id.get(new.user_id)
    if target_bot is not None:
        await deliver(world, target_bot, "my_chat_member", payload)
    if service_message:
        user_json = world.users[new.user_id].to_json()
        if not was_present and new.present:
            sender = world.users[actor_id]
            await post_message(world, chat, sender, {"new_chat_members": [user_json]})
        elif was_present and not new.present:
            sender = world.users[actor_id]
            await post_message(world, chat, sender, {"left_chat_member": user_json})
    await world.notify({"type": "member", "chat_id": chat.id, "user_id": new.user_id})


async def set_private_status(world: World, chat: Chat, blocked: bool) -> None:
    """Emit the my_chat_member update a bot receives when a user blocks or unblocks it."""
    assert chat.bot_id is not None and chat.user_id is not None
    bot = world.bots_by_id[chat.bot_id]
    bot_user = world.users[bot.user.id].to_json()
    member = {"status": "member", "user": bot_user}
    kicked = {"status": "kicked", "user": bot_user, "until_date": 0}
    payload = {
        "chat": world.chat_json(chat),
        "from": world.users[chat.user_id].to_json(),
        "date": world.now(),
        "old_chat_member": member if blocked else kicked,
        "new_chat_member": kicked if blocked else member,
    }
    await deliver(world, bot, "my_chat_member", payload)
