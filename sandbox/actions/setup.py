"""Building the world: bots, people, groups, forum topics, invite links, admins."""

from __future__ import annotations

import re
from typing import Any

from sandbox.actions.common import (
    ControlError,
    bot_of,
    chat_of,
    owner_of,
    topic_view,
    user_of,
)
from sandbox.forum import create_topic as _create_topic
from sandbox.forum import set_topic_closed
from sandbox.invites import new_link
from sandbox.membership import (
    change_member,
    effective_permissions,
    member_json,
)
from sandbox.state import (
    ADMIN_RIGHTS,
    GENERAL_TOPIC_ID,
    Bot,
    Chat,
    Member,
    Topic,
    User,
    World,
)

_TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")


async def create_bot(
    world: World,
    *,
    token: str,
    username: str,
    first_name: str = "Bot",
    can_read_all_group_messages: bool = False,
    supports_inline_queries: bool = True,
) -> dict[str, Any]:
    """Register a bot account (its id is the number before ':' in the token)."""
    match = _TOKEN.match(token)
    if not match:
        raise ControlError(400, "token must look like '123456:ABC-def'")
    if token in world.bots:
        raise ControlError(400, "a bot with this token already exists")
    bot_id = int(match.group(1))
    if bot_id in world.users:
        raise ControlError(400, f"id {bot_id} is taken")
    user = User(id=bot_id, first_name=first_name, username=username, is_bot=True)
    world.users[bot_id] = user
    bot = Bot(
        user=user,
        token=token,
        can_read_all_group_messages=can_read_all_group_messages,
        supports_inline_queries=supports_inline_queries,
    )
    world.bots[token] = bot
    world.bots_by_id[bot_id] = bot
    await world.notify({"type": "user", "user_id": bot_id})
    return user.to_json()


async def create_user(
    world: World,
    *,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "ko",
    bio: str | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """Create a person."""
    uid = int(user_id) if user_id is not None else world.next_user_id()
    if uid in world.users:
        raise ControlError(400, f"user {uid} exists")
    user = User(
        id=uid,
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
        bio=bio,
    )
    world.users[uid] = user
    await world.notify({"type": "user", "user_id": uid})
    return {**user.to_json(), "language_code": language_code}


def _rights(value: dict[str, bool] | None, default: bool) -> dict[str, bool]:
    rights = dict.fromkeys(ADMIN_RIGHTS, default)
    rights["can_manage_chat"] = True
    for key, flag in (value or {}).items():
        if key not in ADMIN_RIGHTS:
            raise ControlError(400, f"unknown administrator right {key!r}")
        rights[key] = bool(flag)
    return rights


async def _build_group(
    world: World,
    chat: Chat,
    *,
    owner_id: int | None,
    members: list[int] | None,
    admins: list[Any] | None,
    bot_tokens: list[str],
    bot_rights: dict[str, bool] | None,
    bot_admin: bool = True,
) -> dict[str, Any]:
    members = [int(m) for m in members or []]
    admin_specs: list[tuple[int, dict[str, bool] | None]] = []
    for spec in admins or []:
        if isinstance(spec, dict):
            admin_specs.append((int(spec["user_id"]), spec.get("rights")))
        else:
            admin_specs.append((int(spec), None))
    if owner_id is None:
        candidates = [uid for uid, _ in admin_specs] + members
        if candidates:
            owner_id = candidates[0]
        else:
            owner = await create_user(world, first_name="Owner", language_code="ko")
            owner_id = int(owner["id"])
    user_of(world, owner_id)
    world.chats[chat.id] = chat
    chat.members[owner_id] = Member(user_id=owner_id, status="creator")
    for uid in members:
        user_of(world, uid)
        chat.members.setdefault(uid, Member(user_id=uid))
    for uid, rights in admin_specs:
        user_of(world, uid)
        if uid != owner_id:
            chat.members[uid] = Member(
                user_id=uid, status="administrator", rights=_rights(rights, True)
            )
    new_link(world, chat, owner_id, is_primary=True)
    for token in bot_tokens:
        bot = bot_of(world, token)
        await change_member(
            world,
            chat,
            Member(user_id=bot.user.id, status="administrator", rights=_rights(bot_rights, False))
            if bot_admin
            else Member(user_id=bot.user.id),
            owner_id,
            service_message=False,
        )
    await world.notify({"type": "chat", "chat_id": chat.id})
    return world.chat_json(chat)


def _tokens(bot_token: str | None, bot_tokens: list[str] | None) -> list[str]:
    tokens = list(bot_tokens or [])
    if bot_token:
        tokens.insert(0, bot_token)
    return tokens


async def create_supergroup(
    world: World,
    *,
    title: str,
    is_forum: bool = False,
    username: str | None = None,
    description: str | None = None,
    bot_token: str | None = None,
    bot_tokens: list[str] | None = None,
    bot_rights: dict[str, bool] | None = None,
    members: list[int] | None = None,
    admins: list[Any] | None = None,
    owner_id: int | None = None,
    bot_admin: bool = True,
) -> dict[str, Any]:
    """Create a supergroup (optionally a forum) with the bot(s) as administrators."""
    chat = Chat(
        id=world.next_supergroup_id(),
        type="supergroup",
        title=title,
        username=username,
        is_forum=bool(is_forum),
        description=description,
    )
    if is_forum:
        chat.topics[GENERAL_TOPIC_ID] = Topic(
            message_thread_id=GENERAL_TOPIC_ID, name="General", icon_color=7322096, creator_id=0
        )
        chat.next_message_id = 2
    return await _build_group(
        world,
        chat,
        owner_id=owner_id,
        members=members,
        admins=admins,
        bot_tokens=_tokens(bot_token, bot_tokens),
        bot_rights=bot_rights,
        bot_admin=bot_admin,
    )


async def create_group(
    world: World,
    *,
    title: str,
    bot_token: str | None = None,
    bot_tokens: list[str] | None = None,
    bot_rights: dict[str, bool] | None = None,
    members: list[int] | None = None,
    admins: list[Any] | None = None,
    owner_id: int | None = None,
    bot_admin: bool = True,
) -> dict[str, Any]:
    """Create a basic group (bot_admin=False adds the bot(s) as plain members)."""
    chat = Chat(id=world.next_group_id(), type="group", title=title)
    return await _build_group(
        world,
        chat,
        owner_id=owner_id,
        members=members,
        admins=admins,
        bot_tokens=_tokens(bot_token, bot_tokens),
        bot_rights=bot_rights,
        bot_admin=bot_admin,
    )


async def add_member(
    world: World, *, chat_id: int, user_id: int, by_user_id: int | None = None
) -> dict[str, Any]:
    """An admin adds a user to a group (chat_member update, new_chat_members message)."""
    chat = chat_of(world, chat_id)
    user_of(world, user_id)
    existing = chat.members.get(int(user_id))
    if existing is not None and existing.status == "kicked":
        raise ControlError(403, "USER_BANNED_IN_CHANNEL")
    if existing is not None and existing.present:
        raise ControlError(400, "USER_ALREADY_PARTICIPANT")
    actor = by_user_id or owner_of(chat)
    await change_member(world, chat, Member(user_id=int(user_id)), int(actor))
    return member_json(world, chat, chat.members[int(user_id)])


async def remove_member(
    world: World, *, chat_id: int, user_id: int, ban: bool = False, by_user_id: int | None = None
) -> dict[str, Any]:
    """An admin removes (or bans) a user or a bot from a group."""
    chat = chat_of(world, chat_id)
    user_of(world, user_id)
    existing = chat.members.get(int(user_id))
    if existing is None or (not existing.present and not ban):
        raise ControlError(400, "USER_NOT_PARTICIPANT")
    if existing.status == "creator":
        raise ControlError(400, "can't remove chat owner")
    actor = by_user_id or owner_of(chat)
    new = Member(user_id=int(user_id), status="kicked" if ban else "left")
    await change_member(world, chat, new, int(actor))
    return member_json(world, chat, new)


async def set_admin(
    world: World, *, chat_id: int, user_id: int, rights: dict[str, bool] | None = None
) -> dict[str, Any]:
    """The owner makes a member an administrator (all rights unless given)."""
    chat = chat_of(world, chat_id)
    member = chat.members.get(int(user_id))
    if member is None or not member.present:
        raise ControlError(400, "user is not a member of the chat")
    new = Member(user_id=int(user_id), status="administrator", rights=_rights(rights, True))
    await change_member(world, chat, new, owner_of(chat), service_message=False)
    return member_json(world, chat, new)


async def create_invite_link(
    world: World,
    *,
    chat_id: int,
    creates_join_request: bool = False,
    name: str | None = None,
    member_limit: int | None = None,
    expire_date: int | None = None,
) -> dict[str, Any]:
    """The owner creates an invite link."""
    chat = chat_of(world, chat_id)
    link = new_link(
        world,
        chat,
        owner_of(chat),
        creates_join_request=creates_join_request,
        name=name,
        member_limit=member_limit,
        expire_date=expire_date,
    )
    return link.to_json(world)


async def create_topic(
    world: World, *, chat_id: int, name: str, user_id: int, icon_color: int | None = None
) -> dict[str, Any]:
    """A human admin creates a forum topic."""
    chat = chat_of(world, chat_id)
    if not chat.is_forum:
        raise ControlError(400, "the chat is not a forum")
    member = chat.members.get(int(user_id))
    if member is None or not member.present:
        raise ControlError(403, "user is not a member of the chat")
    if not (
        member.right("can_manage_topics")
        or effective_permissions(chat, member).get("can_manage_topics")
    ):
        raise ControlError(400, "not enough rights to create a topic")
    topic = await _create_topic(world, chat, user_of(world, user_id), name, icon_color=icon_color)
    return topic_view(chat, topic)


async def close_topic(
    world: World, *, chat_id: int, message_thread_id: int, user_id: int, closed: bool = True
) -> dict[str, Any]:
    """A human admin closes (or with closed=false reopens) a topic."""
    chat = chat_of(world, chat_id)
    topic = chat.topics.get(int(message_thread_id))
    if topic is None:
        raise ControlError(404, "TOPIC_ID_INVALID")
    member = chat.members.get(int(user_id))
    if member is None or not (member.right("can_manage_topics") or topic.creator_id == user_id):
        raise ControlError(400, "not enough rights to close a topic")
    if topic.is_closed != closed:
        await set_topic_closed(world, chat, topic, user_of(world, user_id), closed)
    return topic_view(chat, topic)
