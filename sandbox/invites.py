"""Invite links and join requests shared by the Bot API and the control API."""

from __future__ import annotations

import secrets

from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.membership import change_member
from sandbox.messaging import bots_in_chat, deliver
from sandbox.state import Chat, InviteLink, JoinRequest, Member, World


def new_link(world: World, chat: Chat, creator_id: int, **fields: object) -> InviteLink:
    """Create and register an invite link of ``chat``."""
    link = InviteLink(
        invite_link=f"https://t.me/+{secrets.token_urlsafe(12)}",
        chat_id=chat.id,
        creator_id=creator_id,
        **fields,  # type: ignore[arg-type]
    )
    chat.invite_links[link.invite_link] = link
    return link


def find_link(world: World, url: str) -> tuple[Chat, InviteLink]:
    """Return the chat and link for an invite URL, or raise INVITE_HASH_EXPIRED."""
    for chat in world.chats.values():
        link = chat.invite_links.get(url)
        if link is not None:
            return chat, link
    raise bad_request("INVITE_HASH_INVALID")


def link_usable(world: World, chat: Chat, link: InviteLink) -> None:
    """Raise Telegram's error if the link is revoked, expired or full."""
    if link.is_revoked or (link.expire_date and link.expire_date < world.now()):
        raise bad_request("INVITE_HASH_EXPIRED")
    if link.member_limit and link.joined >= link.member_limit:
        raise bad_request("USERS_TOO_MUCH")


async def use_link(world: World, user_id: int, url: str) -> dict[str, object]:
    """A user opens an invite link: join at once, or file a join request."""
    chat, link = find_link(world, url)
    link_usable(world, chat, link)
    member = chat.members.get(user_id)
    if member is not None and member.status == "kicked":
        raise forbidden("USER_BANNED_IN_CHANNEL")
    if member is not None and member.present:
        raise bad_request("USER_ALREADY_PARTICIPANT")
    if link.creates_join_request:
        if user_id in chat.join_requests:
            raise bad_request("INVITE_REQUEST_SENT")
        request = JoinRequest(
            user_id=user_id,
            chat_id=chat.id,
            date=world.now(),
            invite_link=link.invite_link,
            bio=world.users[user_id].bio,
        )
        chat.join_requests[user_id] = request
        payload = {
            "chat": world.chat_json(chat),
            "from": world.users[user_id].to_json(),
            "user_chat_id": user_id,
            "date": request.date,
            "invite_link": link.to_json(world),
        }
        if request.bio:
            payload["bio"] = request.bio
        for bot, bot_member in bots_in_chat(world, chat):
            if bot_member.right("can_invite_users"):
                bot.dm_allowed_until[user_id] = world.now() + world.config.join_request_dm_seconds
                await deliver(world, bot, "chat_join_request", payload)
        await world.notify({"type": "join_request", "chat_id": chat.id, "user_id": user_id})
        return {"status": "requested", "chat_id": chat.id}
    link.joined += 1
    await change_member(world, chat, Member(user_id=user_id), user_id, invite_link=link)
    return {"status": "joined", "chat_id": chat.id}


async def resolve_request(
    world: World, chat: Chat, user_id: int, actor_id: int, approve: bool
) -> None:
    """Approve or decline a pending join request."""
    request = chat.join_requests.get(user_id)
    if request is None:
        raise bad_request("HIDE_REQUESTER_MISSING")
    member = chat.members.get(user_id)
    if approve and member is not None and member.present:
        del chat.join_requests[user_id]
        raise bad_request("USER_ALREADY_PARTICIPANT")
    del chat.join_requests[user_id]
    if not approve:
        await world.notify({"type": "join_request", "chat_id": chat.id, "user_id": user_id})
        return
    link = chat.invite_links.get(request.invite_link or "")
    if link is not None:
        link.joined += 1
    await change_member(
        world,
        chat,
        Member(user_id=user_id),
        actor_id,
        invite_link=link,
        via_join_request=True,
    )


def not_banned(chat: Chat, user_id: int) -> None:
    """Raise if the user is banned from the chat."""
    member = chat.members.get(user_id)
    if member is not None and member.status == "kicked":
        raise ApiError(403, "Forbidden: USER_BANNED_IN_CHANNEL")
