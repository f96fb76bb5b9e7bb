"""What scripted people do in the sandbox: the logic behind the control API.

Every function takes the world first and keyword arguments named like the control API's JSON.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import re
from typing import Any

from sandbox.access import resolve_thread
from sandbox.errors import ApiError
from sandbox.forum import create_topic as _create_topic
from sandbox.forum import set_topic_closed
from sandbox.html_entities import format_text
from sandbox.images import image_size
from sandbox.invites import new_link, resolve_request, use_link
from sandbox.markup import find_callback_button
from sandbox.membership import (
    change_member,
    effective_permissions,
    member_json,
    set_private_status,
)
from sandbox.messaging import deliver, edit_message, post_message
from sandbox.state import (
    ADMIN_RIGHTS,
    GENERAL_TOPIC_ID,
    Bot,
    Chat,
    Member,
    StoredMessage,
    Topic,
    User,
    World,
)

_TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")


class ControlError(ApiError):
    """A control API call that cannot be carried out (bad input or not allowed)."""


def _user(world: World, user_id: int) -> User:
    user = world.users.get(int(user_id))
    if user is None:
        raise ControlError(404, f"user {user_id} not found")
    return user


def _bot(world: World, bot_token: str | None = None) -> Bot:
    if bot_token is None:
        try:
            return world.default_bot()
        except LookupError as exc:
            raise ControlError(400, "no bot created yet") from exc
    bot = world.bots.get(bot_token)
    if bot is None:
        raise ControlError(404, f"bot with token {bot_token!r} not found")
    return bot


def _chat(world: World, chat_id: int, bot_token: str | None = None) -> Chat:
    chat_id = int(chat_id)
    if chat_id > 0:
        _user(world, chat_id)
        return world.private_chat(_bot(world, bot_token), chat_id)
    chat = world.chats.get(chat_id)
    if chat is None:
        raise ControlError(404, f"chat {chat_id} not found")
    return chat


def _decode(data: str | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    return base64.b64decode(data)


def message_view(message: StoredMessage) -> dict[str, Any]:
    """Return a message as the chat shows it: JSON + pinned flag + whatever keyboard it carries."""
    data = message.snapshot()
    data["pinned"] = message.pinned
    if message.sent_markup:
        data["reply_markup"] = message.sent_markup
    return data


def _topic_view(chat: Chat, topic: Topic) -> dict[str, Any]:
    return {**topic.to_json(), "is_closed": topic.is_closed, "creator_id": topic.creator_id}


# --- world building -------------------------------------------------------------------


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
    _user(world, owner_id)
    world.chats[chat.id] = chat
    chat.members[owner_id] = Member(user_id=owner_id, status="creator")
    for uid in members:
        _user(world, uid)
        chat.members.setdefault(uid, Member(user_id=uid))
    for uid, rights in admin_specs:
        _user(world, uid)
        if uid != owner_id:
            chat.members[uid] = Member(
                user_id=uid, status="administrator", rights=_rights(rights, True)
            )
    new_link(world, chat, owner_id, is_primary=True)
    for token in bot_tokens:
        bot = _bot(world, token)
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
    chat = _chat(world, chat_id)
    _user(world, user_id)
    existing = chat.members.get(int(user_id))
    if existing is not None and existing.status == "kicked":
        raise ControlError(403, "USER_BANNED_IN_CHANNEL")
    if existing is not None and existing.present:
        raise ControlError(400, "USER_ALREADY_PARTICIPANT")
    actor = by_user_id or _owner(chat)
    await change_member(world, chat, Member(user_id=int(user_id)), int(actor))
    return member_json(world, chat, chat.members[int(user_id)])


async def remove_member(
    world: World, *, chat_id: int, user_id: int, ban: bool = False, by_user_id: int | None = None
) -> dict[str, Any]:
    """An admin removes (or bans) a user or a bot from a group."""
    chat = _chat(world, chat_id)
    _user(world, user_id)
    existing = chat.members.get(int(user_id))
    if existing is None or (not existing.present and not ban):
        raise ControlError(400, "USER_NOT_PARTICIPANT")
    if existing.status == "creator":
        raise ControlError(400, "can't remove chat owner")
    actor = by_user_id or _owner(chat)
    new = Member(user_id=int(user_id), status="kicked" if ban else "left")
    await change_member(world, chat, new, int(actor))
    return member_json(world, chat, new)


def _owner(chat: Chat) -> int:
    return next(uid for uid, m in chat.members.items() if m.status == "creator")


async def set_admin(
    world: World, *, chat_id: int, user_id: int, rights: dict[str, bool] | None = None
) -> dict[str, Any]:
    """The owner makes a member an administrator (all rights unless given)."""
    chat = _chat(world, chat_id)
    member = chat.members.get(int(user_id))
    if member is None or not member.present:
        raise ControlError(400, "user is not a member of the chat")
    new = Member(user_id=int(user_id), status="administrator", rights=_rights(rights, True))
    await change_member(world, chat, new, _owner(chat), service_message=False)
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
    chat = _chat(world, chat_id)
    link = new_link(
        world,
        chat,
        _owner(chat),
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
    chat = _chat(world, chat_id)
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
    topic = await _create_topic(world, chat, _user(world, user_id), name, icon_color=icon_color)
    return _topic_view(chat, topic)


async def close_topic(
    world: World, *, chat_id: int, message_thread_id: int, user_id: int, closed: bool = True
) -> dict[str, Any]:
    """A human admin closes (or with closed=false reopens) a topic."""
    chat = _chat(world, chat_id)
    topic = chat.topics.get(int(message_thread_id))
    if topic is None:
        raise ControlError(404, "TOPIC_ID_INVALID")
    member = chat.members.get(int(user_id))
    if member is None or not (member.right("can_manage_topics") or topic.creator_id == user_id):
        raise ControlError(400, "not enough rights to close a topic")
    if topic.is_closed != closed:
        await set_topic_closed(world, chat, topic, _user(world, user_id), closed)
    return _topic_view(chat, topic)


# --- acting as a user ------------------------------------------------------------------


def _writable_chat(
    world: World,
    user: User,
    chat_id: int,
    bot_token: str | None,
    permission: str,
    thread_id: int | None,
) -> tuple[Chat, int | None]:
    chat_id = int(chat_id)
    if chat_id > 0:
        if chat_id != user.id:
            raise ControlError(400, "in a private chat with the bot, chat_id is the user's own id")
        bot = _bot(world, bot_token)
        if user.id in bot.blocked_by:
            raise ControlError(403, "the user has blocked the bot; call unblock_bot first")
        bot.started_by.add(user.id)
        return world.private_chat(bot, user.id), None
    chat = _chat(world, chat_id)
    member = chat.members.get(user.id)
    if member is None or not member.present:
        raise ControlError(403, "user is not a member of the chat")
    if not effective_permissions(chat, member).get(permission, True):
        raise ControlError(403, f"user is restricted in this chat ({permission} is false)")
    thread = resolve_thread(world, chat, int(thread_id) if thread_id else None, member)
    return chat, thread


async def _send(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    content: dict[str, Any],
    permission: str = "can_send_messages",
    message_thread_id: int | None = None,
    reply_to_message_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    user = _user(world, user_id)
    chat, thread = _writable_chat(world, user, chat_id, bot_token, permission, message_thread_id)
    reply = None
    if reply_to_message_id:
        reply = chat.messages.get(int(reply_to_message_id))
        if reply is None or reply.deleted:
            raise ControlError(400, "message to be replied not found")
        if thread is None and chat.is_forum:
            thread = reply.thread_id
    message = await post_message(world, chat, user, content, thread_id=thread, reply_to=reply)
    return message_view(message)


async def start_bot(
    world: World, *, user_id: int, bot_token: str | None = None, payload: str | None = None
) -> dict[str, Any]:
    """The user presses Start (or opens a t.me/bot?start=payload link): sends /start."""
    user = _user(world, user_id)
    bot = _bot(world, bot_token)
    if user.id in bot.blocked_by:
        bot.blocked_by.discard(user.id)
        await set_private_status(world, world.private_chat(bot, user.id), blocked=False)
    text = "/start" + (f" {payload}" if payload else "")
    return await send_text(world, user_id=user.id, chat_id=user.id, text=text, bot_token=bot.token)


async def send_text(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    text: str,
    message_thread_id: int | None = None,
    reply_to_message_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a text message."""
    plain, entities = format_text(text, None)
    if not plain:
        raise ControlError(400, "message text is empty")
    if len(plain.encode("utf-16-le")) // 2 > 4096:
        raise ControlError(400, "message is too long")
    content: dict[str, Any] = {"text": plain}
    if entities:
        content["entities"] = entities
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        message_thread_id=message_thread_id,
        reply_to_message_id=reply_to_message_id,
        bot_token=bot_token,
    )


def _caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    plain, entities = format_text(caption, None)
    if len(plain.encode("utf-16-le")) // 2 > 1024:
        raise ControlError(400, "message caption is too long")
    content: dict[str, Any] = {"caption": plain}
    if entities:
        content["caption_entities"] = entities
    return content


async def send_photo(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    caption: str | None = None,
    media_group_id: str | None = None,
    message_thread_id: int | None = None,
    reply_to_message_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a photo (PNG/JPEG/GIF/WebP bytes, base64 in JSON)."""
    raw = _decode(data)
    if image_size(raw) is None:
        raise ControlError(400, "photo must be a PNG, JPEG, GIF or WebP image")
    stored = world.files.add(raw, "photo")
    content: dict[str, Any] = {"photo": [stored.photo_size_json()], **_caption(caption)}
    if media_group_id:
        content["media_group_id"] = str(media_group_id)
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        permission="can_send_photos",
        message_thread_id=message_thread_id,
        reply_to_message_id=reply_to_message_id,
        bot_token=bot_token,
    )


async def send_album(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    photos: list[str | bytes],
    caption: str | None = None,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> list[dict[str, Any]]:
    """The user sends 2-10 photos as an album: separate messages sharing a media_group_id."""
    if not 2 <= len(photos) <= 10:
        raise ControlError(400, "an album has 2-10 photos")
    group_id = str(random.randint(10**17, 10**18 - 1))
    sent = []
    for index, photo in enumerate(photos):
        sent.append(
            await send_photo(
                world,
                user_id=user_id,
                chat_id=chat_id,
                data=photo,
                caption=caption if index == 0 else None,
                media_group_id=group_id,
                message_thread_id=message_thread_id,
                bot_token=bot_token,
            )
        )
    return sent


async def send_document(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    file_name: str = "file.bin",
    mime_type: str | None = None,
    caption: str | None = None,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a file as a document."""
    stored = world.files.add(_decode(data), "document", file_name=file_name, mime_type=mime_type)
    content = {"document": stored.media_json(), **_caption(caption)}
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        permission="can_send_documents",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


async def send_voice(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    duration: int = 1,
    caption: str | None = None,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a voice note (OGG/Opus bytes)."""
    stored = world.files.add(_decode(data), "voice", mime_type="audio/ogg", duration=int(duration))
    content = {"voice": stored.media_json(), **_caption(caption)}
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        permission="can_send_voice_notes",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


def _location(
    latitude: float,
    longitude: float,
    horizontal_accuracy: float | None = None,
    live_period: int | None = None,
    heading: int | None = None,
) -> dict[str, Any]:
    if not -90 <= float(latitude) <= 90 or not -180 <= float(longitude) <= 180:
        raise ControlError(400, "wrong location specified")
    location: dict[str, Any] = {"latitude": float(latitude), "longitude": float(longitude)}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = float(horizontal_accuracy)
    if live_period is not None:
        location["live_period"] = int(live_period)
    if heading is not None:
        location["heading"] = int(heading)
    return location


async def send_location(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    latitude: float,
    longitude: float,
    horizontal_accuracy: float | None = None,
    live_period: int | None = None,
    message_thread_id: int | None = None,
    reply_to_message_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user shares a location (a live one with live_period)."""
    location = _location(latitude, longitude, horizontal_accuracy, live_period)
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content={"location": location},
        permission="can_send_other_messages",
        message_thread_id=message_thread_id,
        reply_to_message_id=reply_to_message_id,
        bot_token=bot_token,
    )


def _own_live_location(
    world: World, user_id: int, chat_id: int, message_id: int, bot_token: str | None
) -> tuple[Chat, StoredMessage]:
    chat = _chat(world, chat_id, bot_token)
    message = chat.messages.get(int(message_id))
    if message is None or message.deleted or message.sender_id != int(user_id):
        raise ControlError(404, "message not found")
    location = message.data.get("location")
    if not location or "live_period" not in location:
        raise ControlError(400, "not a live location")
    period = location["live_period"]
    if period != 0x7FFFFFFF and message.date + period < world.now():
        raise ControlError(400, "live location has expired")
    return chat, message


async def edit_live_location(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    latitude: float,
    longitude: float,
    horizontal_accuracy: float | None = None,
    heading: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user's live location moves: an edited_message update."""
    chat, message = _own_live_location(world, user_id, chat_id, message_id, bot_token)
    old = message.data["location"]
    new = _location(latitude, longitude, horizontal_accuracy, old["live_period"], heading)
    await edit_message(world, chat, message, {"location": new}, markup=False)
    return message_view(message)


async def stop_live_location(
    world: World, *, user_id: int, chat_id: int, message_id: int, bot_token: str | None = None
) -> dict[str, Any]:
    """The user stops sharing a live location: a final edited_message update."""
    chat, message = _own_live_location(world, user_id, chat_id, message_id, bot_token)
    location = dict(message.data["location"])
    location["live_period"] = max(world.now() - message.date, 0)
    await edit_message(world, chat, message, {"location": location}, markup=False)
    return message_view(message)


async def send_venue(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    latitude: float,
    longitude: float,
    title: str,
    address: str,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user shares a venue."""
    location = _location(latitude, longitude)
    content = {
        "venue": {"location": location, "title": title, "address": address},
        "location": location,
    }
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        permission="can_send_other_messages",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


async def send_contact(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    phone_number: str,
    first_name: str | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user shares a phone contact (their own by default, as request_contact does)."""
    user = _user(world, user_id)
    contact = {
        "phone_number": phone_number,
        "first_name": first_name or user.first_name,
        "user_id": user.id,
    }
    return await _send(
        world, user_id=user_id, chat_id=chat_id, content={"contact": contact}, bot_token=bot_token
    )


async def edit_text(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    text: str,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user edits one of their text messages: an edited_message update."""
    chat = _chat(world, chat_id, bot_token)
    message = chat.messages.get(int(message_id))
    if message is None or message.deleted or message.sender_id != int(user_id):
        raise ControlError(404, "message not found")
    if "text" not in message.data:
        raise ControlError(400, "there is no text in the message to edit")
    plain, entities = format_text(text, None)
    if not plain:
        raise ControlError(400, "message text is empty")
    changes: dict[str, Any] = {"text": plain}
    if entities:
        changes["entities"] = entities
    await edit_message(world, chat, message, changes, remove=("entities",), markup=False)
    return message_view(message)


async def press_button(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    callback_data: str,
    timeout: float | None = None,  # noqa: ASYNC109
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user presses an inline button; returns the bot's answer (or answered=false)."""
    user = _user(world, user_id)
    chat = _chat(world, chat_id, bot_token)
    if not chat.is_private:
        member = chat.members.get(user.id)
        if member is None or not member.present:
            raise ControlError(403, "user is not a member of the chat")
    message = chat.messages.get(int(message_id))
    if message is None or message.deleted:
        raise ControlError(404, "message not found")
    if find_callback_button(message.data.get("reply_markup"), callback_data) is None:
        raise ControlError(400, f"no inline button with callback_data {callback_data!r}")
    bot = world.bots_by_id.get(message.sender_id)
    if bot is None:
        raise ControlError(400, "the message was not sent by a bot")
    query_id = str(random.randint(10**18, 9 * 10**18))
    instance = hashlib.sha1(f"{chat.id}:{bot.user.id}".encode()).hexdigest()[:19]
    payload = {
        "id": query_id,
        "from": user.to_json(),
        "message": message.snapshot(),
        "chat_instance": str(int(instance, 16)),
        "data": callback_data,
    }
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    world.callback_answers[query_id] = future
    await deliver(world, bot, "callback_query", payload)
    wait = world.config.callback_answer_timeout if timeout is None else float(timeout)
    try:
        answer = await asyncio.wait_for(asyncio.shield(future), wait)
    except TimeoutError:
        return {"answered": False, "callback_query_id": query_id}
    return {**answer, "callback_query_id": query_id}


async def inline_query(
    world: World,
    *,
    user_id: int,
    query: str,
    bot_token: str | None = None,
    offset: str = "",
    chat_type: str | None = "sender",
    timeout: float | None = None,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The user types ``@bot query``; returns the bot's answerInlineQuery (or answered=false)."""
    user = _user(world, user_id)
    bot = _bot(world, bot_token)
    if not bot.supports_inline_queries:
        raise ControlError(400, "the bot does not support inline queries")
    query_id = str(random.randint(10**18, 9 * 10**18))
    payload: dict[str, Any] = {
        "id": query_id,
        "from": user.to_json(),
        "query": query,
        "offset": offset,
    }
    if chat_type:
        payload["chat_type"] = chat_type
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    world.inline_answers[query_id] = future
    await deliver(world, bot, "inline_query", payload)
    wait = world.config.callback_answer_timeout if timeout is None else float(timeout)
    try:
        answer = await asyncio.wait_for(asyncio.shield(future), wait)
    except TimeoutError:
        return {"answered": False, "inline_query_id": query_id}
    return {**answer, "inline_query_id": query_id}


async def join_request(world: World, *, user_id: int, invite_link: str) -> dict[str, Any]:
    """The user opens an invite link: a chat_join_request update, or a direct join."""
    _user(world, user_id)
    return await use_link(world, int(user_id), invite_link)


async def resolve_join_request(
    world: World, *, chat_id: int, user_id: int, approve: bool = True
) -> dict[str, Any]:
    """The chat owner approves or declines a pending join request."""
    chat = _chat(world, chat_id)
    await resolve_request(world, chat, int(user_id), _owner(chat), bool(approve))
    member = chat.members.get(int(user_id)) or Member(user_id=int(user_id), status="left")
    return member_json(world, chat, member)


async def leave_chat(world: World, *, user_id: int, chat_id: int) -> dict[str, Any]:
    """The user leaves a group."""
    chat = _chat(world, chat_id)
    member = chat.members.get(int(user_id))
    if member is None or not member.present:
        raise ControlError(400, "user is not a member of the chat")
    if member.status == "creator":
        raise ControlError(400, "the owner cannot leave in the sandbox")
    await change_member(world, chat, Member(user_id=int(user_id), status="left"), int(user_id))
    return member_json(world, chat, chat.members[int(user_id)])


async def block_bot(world: World, *, user_id: int, bot_token: str | None = None) -> bool:
    """The user blocks the bot: my_chat_member (kicked); the bot then gets 403 on sends."""
    bot = _bot(world, bot_token)
    _user(world, user_id)
    if int(user_id) not in bot.blocked_by:
        bot.blocked_by.add(int(user_id))
        await set_private_status(world, world.private_chat(bot, int(user_id)), blocked=True)
    return True


async def unblock_bot(world: World, *, user_id: int, bot_token: str | None = None) -> bool:
    """The user unblocks the bot: my_chat_member (member)."""
    bot = _bot(world, bot_token)
    if int(user_id) in bot.blocked_by:
        bot.blocked_by.discard(int(user_id))
        await set_private_status(world, world.private_chat(bot, int(user_id)), blocked=False)
    return True


# --- reading -------------------------------------------------------------------------


async def messages(
    world: World,
    *,
    chat_id: int,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> list[dict[str, Any]]:
    """Return what the chat (or topic) shows now, oldest first."""
    chat = _chat(world, chat_id, bot_token)
    return [message_view(m) for m in chat.live_messages(message_thread_id)]


def _matches(
    world: World,
    message: StoredMessage,
    after: int,
    contains: str | None,
    from_bot: bool | None,
) -> bool:
    if message.message_id <= after:
        return False
    sender = world.users.get(message.sender_id)
    if from_bot is not None and sender is not None and sender.is_bot != from_bot:
        return False
    if contains:
        text = message.data.get("text") or message.data.get("caption") or ""
        return contains in text
    return True


def _in_thread(message: StoredMessage, chat: Chat, thread_id: int | None) -> bool:
    if thread_id is None:
        return True
    if thread_id == GENERAL_TOPIC_ID:
        return message.thread_id in (None, GENERAL_TOPIC_ID)
    return message.thread_id == thread_id


async def wait_for_message(
    world: World,
    *,
    chat_id: int,
    message_thread_id: int | None = None,
    contains: str | None = None,
    from_bot: bool | None = True,
    after_message_id: int | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109
    bot_token: str | None = None,
) -> dict[str, Any]:
    """Return the first message after ``after_message_id`` that matches, waiting for it."""
    chat = _chat(world, chat_id, bot_token)
    after = int(after_message_id or 0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(timeout)
    scanned = after
    while True:
        version = world.version
        # message ids only grow, so each round looks at the messages that are new to it
        for message_id in range(scanned + 1, chat.next_message_id):
            message = chat.messages.get(message_id)
            if message is None or message.deleted:
                continue
            if not _in_thread(message, chat, message_thread_id):
                continue
            if _matches(world, message, after, contains, from_bot):
                return message_view(message)
        scanned = chat.next_message_id - 1
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise ControlError(
                408,
                f"no matching message in chat {chat_id} within {timeout}s "
                f"(contains={contains!r}, after={after})",
            )
        await world.wait_change(version, remaining)


async def chat(world: World, *, chat_id: int, bot_token: str | None = None) -> dict[str, Any]:
    """Return a chat with its members, topics, invite links and pending join requests."""
    target = _chat(world, chat_id, bot_token)
    info: dict[str, Any] = {**world.chat_json(target)}
    if target.is_private:
        assert target.bot_id is not None
        bot = world.bots_by_id[target.bot_id]
        info["bot"] = bot.user.to_json()
        info["blocked"] = target.id in bot.blocked_by
        info["started"] = target.id in bot.started_by
        return info
    info["description"] = target.description
    info["members"] = [member_json(world, target, m) for m in target.members.values()]
    info["topics"] = [_topic_view(target, t) for t in target.topics.values()]
    info["invite_links"] = [link.to_json(world) for link in target.invite_links.values()]
    info["join_requests"] = [
        {"user": world.users[r.user_id].to_json(), "date": r.date, "invite_link": r.invite_link}
        for r in target.join_requests.values()
    ]
    return info


async def topics(world: World, *, chat_id: int) -> list[dict[str, Any]]:
    """Return the forum topics of a supergroup."""
    target = _chat(world, chat_id)
    return [_topic_view(target, t) for t in target.topics.values()]


async def member(world: World, *, chat_id: int, user_id: int) -> dict[str, Any]:
    """Return a user's ChatMember object in a group."""
    target = _chat(world, chat_id)
    _user(world, user_id)
    found = target.members.get(int(user_id)) or Member(user_id=int(user_id), status="left")
    return member_json(world, target, found)


async def users(world: World) -> list[dict[str, Any]]:
    """Return every account (people and bots)."""
    return [
        {**u.to_json(), "language_code": u.language_code, "bio": u.bio}
        for u in world.users.values()
    ]


async def user_chats(world: World, *, user_id: int) -> list[dict[str, Any]]:
    """Return the chats a person sees on their phone: bots first, then their groups."""
    user = _user(world, user_id)
    result: list[dict[str, Any]] = []
    for bot in world.bots.values():
        private = world.private_chat(bot, user.id)
        last = private.live_messages()[-1:] if private.messages else []
        result.append(
            {
                "id": user.id,
                "type": "private",
                "title": bot.user.first_name,
                "bot_token": bot.token,
                "bot": bot.user.to_json(),
                "blocked": user.id in bot.blocked_by,
                "started": user.id in bot.started_by,
                "last_message": message_view(last[0]) if last else None,
            }
        )
    for group in world.chats.values():
        membership = group.members.get(user.id)
        if membership is None or not membership.present:
            continue
        last = group.live_messages()[-1:]
        result.append(
            {
                **world.chat_json(group),
                "status": membership.status,
                "topics": [_topic_view(group, t) for t in group.topics.values()],
                "last_message": message_view(last[0]) if last else None,
            }
        )
    return result


async def updates(world: World, *, bot_token: str | None = None) -> list[dict[str, Any]]:
    """Return the bot's pending (unconfirmed) updates without consuming them."""
    return _bot(world, bot_token).updates.peek(100)


async def pending_updates(world: World, *, bot_token: str | None = None) -> int:
    """Return how many updates the bot has not confirmed (getUpdates) or received (webhook)."""
    return len(_bot(world, bot_token).updates.pending)


async def chat_actions(world: World, *, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Return recent sendChatAction calls (optionally of one chat)."""
    return [a for a in world.chat_actions if chat_id is None or a["chat_id"] == int(chat_id)]


async def advance_time(world: World, *, seconds: float) -> int:
    """Move the sandbox clock forward (e.g. past the 48-hour delete window)."""
    world.clock_offset += float(seconds)
    await world.notify({"type": "clock"})
    return world.now()


async def set_rate_limits(world: World, *, enabled: bool) -> bool:
    """Switch rate limiting on or off."""
    world.config.rate_limits = bool(enabled)
    world.ratelimiter.reset()
    return world.config.rate_limits
