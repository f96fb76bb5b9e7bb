"""Membership methods: invite links, join requests, ban/unban/restrict/promote."""

from __future__ import annotations

from typing import Any

from sandbox.access import chat_for_bot, require_right
from sandbox.errors import bad_request
from sandbox.invites import new_link, resolve_request
from sandbox.membership import DEFAULT_PERMISSIONS, change_member
from sandbox.methods.registry import Call, method
from sandbox.state import ADMIN_RIGHTS, Chat, InviteLink, Member

INVITE_RIGHTS = "not enough rights to manage chat invite link"
RESTRICT_RIGHTS = "not enough rights to restrict/unrestrict chat member"


def _group(call: Call) -> Chat:
    chat = chat_for_bot(call.world, call.bot, call.params)
    if chat.is_private:
        raise bad_request("method is available for supergroup and channel chats only")
    return chat


def _link_fields(call: Call) -> dict[str, Any]:
    params = call.params
    fields: dict[str, Any] = {}
    if params.has("name"):
        name = params.string("name")
        if len(name) > 32:
            raise bad_request("invite link name is too long")
        fields["name"] = name or None
    if params.has("expire_date"):
        expire = params.integer("expire_date")
        if expire and expire < call.world.now():
            raise bad_request("EXPIRE_DATE_INVALID")
        fields["expire_date"] = expire or None
    if params.has("member_limit"):
        limit = params.integer("member_limit")
        if limit is not None and not 1 <= limit <= 99999:
            raise bad_request("USAGE_LIMIT_INVALID")
        fields["member_limit"] = limit
    if params.has("creates_join_request"):
        fields["creates_join_request"] = params.flag("creates_join_request")
    if fields.get("creates_join_request") and fields.get("member_limit"):
        raise bad_request(
            "member limit can't be specified for links requiring administrator approval"
        )
    return fields


@method("createChatInviteLink")
async def create_chat_invite_link(call: Call) -> dict[str, Any]:
    """Create an additional invite link (optionally needing approval, expiring or limited)."""
    chat = _group(call)
    require_right(chat, call.bot, "can_invite_users", INVITE_RIGHTS)
    link = new_link(call.world, chat, call.bot.user.id, **_link_fields(call))
    await call.world.notify({"type": "invite_link", "chat_id": chat.id})
    return link.to_json(call.world)


def _own_link(call: Call, chat: Chat) -> InviteLink:
    url = call.params.string("invite_link", required=True)
    link = chat.invite_links.get(url)
    if link is None:
        raise bad_request("INVITE_HASH_EXPIRED")
    return link


@method("editChatInviteLink")
async def edit_chat_invite_link(call: Call) -> dict[str, Any]:
    """Change an invite link's name, expiry, limit or approval setting."""
    chat = _group(call)
    require_right(chat, call.bot, "can_invite_users", INVITE_RIGHTS)
    link = _own_link(call, chat)
    for key, value in _link_fields(call).items():
        setattr(link, key, value)
    return link.to_json(call.world)


@method("revokeChatInviteLink")
async def revoke_chat_invite_link(call: Call) -> dict[str, Any]:
    """Revoke an invite link: it can no longer be used."""
    chat = _group(call)
    require_right(chat, call.bot, "can_invite_users", INVITE_RIGHTS)
    link = _own_link(call, chat)
    link.is_revoked = True
    if link.is_primary:
        link.is_primary = False
        new_link(call.world, chat, call.bot.user.id, is_primary=True)
    await call.world.notify({"type": "invite_link", "chat_id": chat.id})
    return link.to_json(call.world)


@method("exportChatInviteLink")
async def export_chat_invite_link(call: Call) -> str:
    """Generate a new primary invite link (the old one is revoked)."""
    chat = _group(call)
    require_right(chat, call.bot, "can_invite_users", INVITE_RIGHTS)
    for link in chat.invite_links.values():
        if link.is_primary:
            link.is_primary = False
            link.is_revoked = True
    return new_link(call.world, chat, call.bot.user.id, is_primary=True).invite_link


async def _join_request(call: Call, approve: bool) -> bool:
    chat = _group(call)
    require_right(chat, call.bot, "can_invite_users", INVITE_RIGHTS)
    user_id = call.params.integer("user_id", required=True)
    await resolve_request(call.world, chat, user_id, call.bot.user.id, approve)
    return True


@method("approveChatJoinRequest")
async def approve_chat_join_request(call: Call) -> bool:
    """Approve a join request: the user becomes a member (chat_member update)."""
    return await _join_request(call, True)


@method("declineChatJoinRequest")
async def decline_chat_join_request(call: Call) -> bool:
    """Decline a join request."""
    return await _join_request(call, False)


def _target(call: Call, chat: Chat, right: str, description: str) -> tuple[int, Member | None]:
    require_right(chat, call.bot, right, description)
    user_id = call.params.integer("user_id", required=True)
    if user_id not in call.world.users:
        raise bad_request("user not found")
    if user_id == call.bot.user.id:
        raise bad_request(
            "can't restrict self" if right == "can_restrict_members" else "can't promote self"
        )
    member = chat.members.get(user_id)
    if member is not None and member.status == "creator":
        raise bad_request(
            "can't remove chat owner" if right == "can_restrict_members" else "USER_CREATOR"
        )
    return int(user_id), member


@method("banChatMember", "kickChatMember")
async def ban_chat_member(call: Call) -> bool:
    """Ban a user: they leave and cannot come back via links until unbanned."""
    chat = _group(call)
    user_id, member = _target(call, chat, "can_restrict_members", RESTRICT_RIGHTS)
    if member is not None and member.status == "administrator":
        raise bad_request("user is an administrator of the chat")
    until = call.world.normalize_until(call.params.integer("until_date", default=0))
    chat.join_requests.pop(user_id, None)
    await change_member(
        call.world,
        chat,
        Member(user_id=user_id, status="kicked", until_date=until),
        call.bot.user.id,
    )
    if until:
        call.world.timed_members.add((chat.id, user_id))
    if call.params.flag("revoke_messages"):
        for message in chat.live_messages():
            if message.sender_id == user_id:
                message.deleted = True
    return True


@method("unbanChatMember")
async def unban_chat_member(call: Call) -> bool:
    """Unban a user (without only_if_banned a present member is removed, as on Telegram)."""
    chat = _group(call)
    user_id, member = _target(call, chat, "can_restrict_members", RESTRICT_RIGHTS)
    only_if_banned = call.params.flag("only_if_banned")
    if member is None or member.status == "left":
        return True
    if member.status == "kicked" or not only_if_banned:
        if member.status == "administrator":
            raise bad_request("user is an administrator of the chat")
        await change_member(
            call.world, chat, Member(user_id=user_id, status="left"), call.bot.user.id
        )
    return True


@method("restrictChatMember")
async def restrict_chat_member(call: Call) -> bool:
    """Restrict what a member may do (until_date, permissions)."""
    chat = _group(call)
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    user_id, member = _target(call, chat, "can_restrict_members", RESTRICT_RIGHTS)
    if member is not None and member.status == "administrator":
        raise bad_request("user is an administrator of the chat")
    permissions = call.params.json("permissions")
    if not isinstance(permissions, dict):
        raise bad_request("can't parse ChatPermissions JSON object")
    independent = call.params.flag("use_independent_chat_permissions")
    perms = {k: bool(v) for k, v in permissions.items() if k in DEFAULT_PERMISSIONS}
    if not independent and perms.get("can_send_messages") is False:
        for name in DEFAULT_PERMISSIONS:
            if name.startswith("can_send_") or name == "can_add_web_page_previews":
                perms.setdefault(name, False)
    until = call.world.normalize_until(call.params.integer("until_date", default=0))
    present = member is not None and member.present
    effective = {**DEFAULT_PERMISSIONS, **chat.permissions}
    if all(perms.get(k, effective[k]) == effective[k] for k in effective) and present:
        new = Member(user_id=user_id, status="member")
    else:
        new = Member(
            user_id=user_id,
            status="restricted",
            permissions=perms,
            until_date=until,
            is_member=present,
        )
    await change_member(call.world, chat, new, call.bot.user.id, service_message=False)
    if new.status == "restricted" and until:
        call.world.timed_members.add((chat.id, user_id))
    return True


@method("promoteChatMember")
async def promote_chat_member(call: Call) -> bool:
    """Grant or (with every right false) revoke administrator rights."""
    chat = _group(call)
    user_id, member = _target(call, chat, "can_promote_members", "not enough rights")
    if member is None or not member.present:
        raise bad_request("USER_NOT_MUTUAL_CONTACT")
    rights = {name: call.params.flag(name) for name in ADMIN_RIGHTS}
    rights["can_manage_chat"] = rights["can_manage_chat"] or any(rights.values())
    bot_member = chat.members[call.bot.user.id]
    if bot_member.status != "creator":
        for name, value in rights.items():
            if value and not bot_member.right(name):
                raise bad_request("RIGHT_FORBIDDEN")
    if any(rights.values()):
        new = Member(user_id=user_id, status="administrator", rights=rights)
    else:
        new = Member(user_id=user_id, status="member")
    await change_member(call.world, chat, new, call.bot.user.id, service_message=False)
    return True


@method("setChatAdministratorCustomTitle")
async def set_chat_administrator_custom_title(call: Call) -> bool:
    """Set an administrator's custom title."""
    chat = _group(call)
    require_right(chat, call.bot, "can_promote_members", "not enough rights")
    user_id = call.params.integer("user_id", required=True)
    member = chat.members.get(user_id)
    if member is None or member.status != "administrator":
        raise bad_request("user is not an administrator")
    member.custom_title = call.params.string("custom_title") or None
    return True
