"""Chat information: getChat, getChatMember, getChatAdministrators, member count, leaving."""

from __future__ import annotations

from typing import Any

from sandbox.access import chat_for_bot, find_chat, require_right
from sandbox.errors import bad_request
from sandbox.jsonutil import drop_none
from sandbox.membership import DEFAULT_PERMISSIONS, change_member, member_json
from sandbox.methods.registry import Call, method
from sandbox.state import Chat, Member, World

ACCEPTED_GIFTS = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}


def chat_full_info(world: World, chat: Chat) -> dict[str, Any]:
    """Return the ``ChatFullInfo`` object getChat answers."""
    base = {**world.chat_json(chat), "accent_color_id": 0, "max_reaction_count": 11}
    base["accepted_gift_types"] = dict(ACCEPTED_GIFTS)
    if chat.is_private:
        assert chat.user_id is not None
        user = world.users[chat.user_id]
        return drop_none({**base, "bio": user.bio})
    primary = next((link for link in chat.invite_links.values() if link.is_primary), None)
    return drop_none(
        {
            **base,
            "description": chat.description,
            "invite_link": primary.invite_link if primary else None,
            "permissions": {**DEFAULT_PERMISSIONS, **chat.permissions},
        }
    )


@method("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    """Return full information about a chat."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    return chat_full_info(call.world, chat)


def _user_id(call: Call) -> int:
    user_id = call.params.integer("user_id", required=True)
    if user_id not in call.world.users:
        raise bad_request("user not found")
    return int(user_id)


@method("getChatMember")
async def get_chat_member(call: Call) -> dict[str, Any]:
    """Return a user's membership in a chat."""
    world = call.world
    chat = chat_for_bot(world, call.bot, call.params)
    user_id = _user_id(call)
    if chat.is_private:
        if user_id not in (chat.user_id, chat.bot_id):
            raise bad_request("user not found")
        return member_json(world, chat, Member(user_id=user_id, status="member"))
    member = chat.members.get(user_id) or Member(user_id=user_id, status="left")
    return member_json(world, chat, member)


@method("getChatAdministrators")
async def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    """Return the chat's owner and administrators."""
    world = call.world
    chat = chat_for_bot(world, call.bot, call.params)
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    return [
        member_json(world, chat, m)
        for m in chat.members.values()
        if m.status in ("creator", "administrator")
    ]


@method("getChatMemberCount", "getChatMembersCount")
async def get_chat_member_count(call: Call) -> int:
    """Return how many users are in the chat."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    if chat.is_private:
        return 2
    return sum(1 for m in chat.members.values() if m.present)


@method("leaveChat")
async def leave_chat(call: Call) -> bool:
    """Make the bot leave a group."""
    world, bot = call.world, call.bot
    chat = find_chat(world, bot, call.params.chat_id())
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    member = chat.members.get(bot.user.id)
    if member is None or not member.present:
        raise bad_request("USER_NOT_PARTICIPANT")
    await change_member(world, chat, Member(user_id=bot.user.id, status="left"), bot.user.id)
    return True


@method("setChatPermissions")
async def set_chat_permissions(call: Call) -> bool:
    """Set the default permissions of the chat's members."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    require_right(
        chat, call.bot, "can_restrict_members", "not enough rights to change chat permissions"
    )
    permissions = call.params.json("permissions")
    if not isinstance(permissions, dict):
        raise bad_request("can't parse ChatPermissions JSON object")
    chat.permissions.update(
        {k: bool(v) for k, v in permissions.items() if k in DEFAULT_PERMISSIONS}
    )
    await call.world.notify({"type": "chat", "chat_id": chat.id})
    return True


@method("setChatTitle")
async def set_chat_title(call: Call) -> bool:
    """Rename a group."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    require_right(chat, call.bot, "can_change_info", "not enough rights to change chat title")
    title = call.params.string("title", required=True)
    if not 1 <= len(title) <= 128:
        raise bad_request("chat title is empty")
    chat.title = title
    await call.world.notify({"type": "chat", "chat_id": chat.id})
    return True


@method("setChatDescription")
async def set_chat_description(call: Call) -> bool:
    """Change a group's description."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    require_right(chat, call.bot, "can_change_info", "not enough rights to change chat description")
    chat.description = call.params.string("description") or None
    return True
