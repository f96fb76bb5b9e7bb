"""People sending messages: text, photos, albums, files, voice, audio, video notes, stickers,
locations, venues."""

from __future__ import annotations

import random
from typing import Any

from sandbox.access import resolve_thread
from sandbox.actions.common import (
    ControlError,
    bot_of,
    chat_of,
    decode_data,
    message_view,
    user_of,
)
from sandbox.html_entities import format_text
from sandbox.images import image_size
from sandbox.membership import (
    effective_permissions,
    set_private_status,
)
from sandbox.messaging import edit_message, post_message
from sandbox.state import (
    Chat,
    StoredMessage,
    User,
    World,
)


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
        bot = bot_of(world, bot_token)
        if user.id in bot.blocked_by:
            raise ControlError(403, "the user has blocked the bot; call unblock_bot first")
        bot.started_by.add(user.id)
        return world.private_chat(bot, user.id), None
    chat = chat_of(world, chat_id)
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
    user = user_of(world, user_id)
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
    user = user_of(world, user_id)
    bot = bot_of(world, bot_token)
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
    content = _text(text)
    if _utf16_length(content["text"]) > 4096:
        raise ControlError(400, "message is too long")
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        message_thread_id=message_thread_id,
        reply_to_message_id=reply_to_message_id,
        bot_token=bot_token,
    )


def _utf16_length(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _text(text: str) -> dict[str, Any]:
    """A message's ``text`` (and ``entities``) from formatted text; refuse an empty one."""
    plain, entities = format_text(text, None)
    if not plain:
        raise ControlError(400, "message text is empty")
    content: dict[str, Any] = {"text": plain}
    if entities:
        content["entities"] = entities
    return content


# The kinds of message that carry a caption.
CAPTIONED = ("photo", "document", "voice", "video", "audio", "animation")


def _caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    plain, entities = format_text(caption, None)
    if _utf16_length(plain) > 1024:
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
    raw = decode_data(data)
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
    stored = world.files.add(
        decode_data(data), "document", file_name=file_name, mime_type=mime_type
    )
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
    stored = world.files.add(
        decode_data(data), "voice", mime_type="audio/ogg", duration=int(duration)
    )
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


async def send_audio(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    file_name: str = "audio.mp3",
    mime_type: str = "audio/mpeg",
    duration: int = 1,
    title: str | None = None,
    performer: str | None = None,
    caption: str | None = None,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends an audio file (music player, not a voice note)."""
    stored = world.files.add(
        decode_data(data), "audio", file_name=file_name, mime_type=mime_type, duration=int(duration)
    )
    audio = stored.media_json()
    audio.update(
        {key: value for key, value in (("title", title), ("performer", performer)) if value}
    )
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content={"audio": audio, **_caption(caption)},
        permission="can_send_audios",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


async def send_video_note(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    duration: int = 1,
    length: int = 240,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a video note (a round video message; no caption)."""
    stored = world.files.add(
        decode_data(data), "video_note", mime_type="video/mp4", duration=int(duration)
    )
    note = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "length": int(length),
        "duration": int(duration),
        "file_size": stored.size,
    }
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content={"video_note": note},
        permission="can_send_video_notes",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


async def send_sticker(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    data: str | bytes,
    emoji: str | None = None,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user sends a static sticker (WebP or PNG bytes; no caption)."""
    raw = decode_data(data)
    if image_size(raw) is None:
        raise ControlError(400, "a sticker must be a WebP or PNG image")
    stored = world.files.add(raw, "sticker")
    sticker: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": stored.width or 0,
        "height": stored.height or 0,
        "is_animated": False,
        "is_video": False,
        "file_size": stored.size,
    }
    if emoji:
        sticker["emoji"] = emoji
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content={"sticker": sticker},
        permission="can_send_other_messages",
        message_thread_id=message_thread_id,
        bot_token=bot_token,
    )


DICE = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}


async def send_dice(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    emoji: str = "🎲",
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user throws an animated emoji (a dice) with a random value."""
    if emoji not in DICE:
        raise ControlError(400, "emoji must be one of " + " ".join(DICE))
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content={"dice": {"emoji": emoji, "value": random.randint(1, DICE[emoji])}},
        permission="can_send_other_messages",
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


ORIGIN_TYPES = ("user", "hidden_user", "chat", "channel")


def _forward_origin(
    world: World,
    origin_type: str,
    name: str | None,
    origin_user_id: int | None,
    origin_chat_id: int | None,
    username: str | None,
    author_signature: str | None,
) -> dict[str, Any]:
    """A Bot API MessageOrigin of the given type (date: a minute ago)."""
    date = world.now() - 60
    if origin_type == "user":
        if origin_user_id is None:
            raise ControlError(400, "origin_user_id is required for a user origin")
        return {
            "type": "user",
            "date": date,
            "sender_user": user_of(world, origin_user_id).to_json(),
        }
    if not name:
        raise ControlError(400, "origin_name is required for this origin")
    if origin_type == "hidden_user":
        return {"type": "hidden_user", "date": date, "sender_user_name": name}
    chat: dict[str, Any] = {
        "id": origin_chat_id or -1001000000000 - random.randrange(1, 10**6),
        "type": "channel" if origin_type == "channel" else "supergroup",
        "title": name,
    }
    if username:
        chat["username"] = username
    if origin_type == "chat":
        origin = {"type": "chat", "date": date, "sender_chat": chat}
    elif origin_type == "channel":
        origin = {
            "type": "channel",
            "date": date,
            "chat": chat,
            "message_id": random.randrange(1, 10**5),
        }
    else:
        raise ControlError(400, f"origin_type must be one of {', '.join(ORIGIN_TYPES)}")
    if author_signature:
        origin["author_signature"] = author_signature
    return origin


async def send_forwarded(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    origin_type: str,
    text: str | None = None,
    photo: str | bytes | None = None,
    caption: str | None = None,
    origin_name: str | None = None,
    origin_user_id: int | None = None,
    origin_chat_id: int | None = None,
    origin_username: str | None = None,
    author_signature: str | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user forwards a text or a photo from a person, a hidden user, a group or a channel."""
    if (text is None) == (photo is None):
        raise ControlError(400, "give either text or photo")
    origin = _forward_origin(
        world,
        origin_type,
        origin_name,
        origin_user_id,
        origin_chat_id,
        origin_username,
        author_signature,
    )
    if text is not None:
        content = _text(text)
        if _utf16_length(content["text"]) > 4096:
            raise ControlError(400, "message is too long")
        permission = "can_send_messages"
    else:
        assert photo is not None
        raw = decode_data(photo)
        if image_size(raw) is None:
            raise ControlError(400, "photo must be a PNG, JPEG, GIF or WebP image")
        stored = world.files.add(raw, "photo")
        content = {"photo": [stored.photo_size_json()], **_caption(caption)}
        permission = "can_send_photos"
    content["forward_origin"] = origin
    return await _send(
        world,
        user_id=user_id,
        chat_id=chat_id,
        content=content,
        permission=permission,
        bot_token=bot_token,
    )


def _own_message(
    world: World, user_id: int, chat_id: int, message_id: int, bot_token: str | None
) -> tuple[Chat, StoredMessage]:
    """The chat and one of the user's own messages in it (not deleted), or 404."""
    chat = chat_of(world, chat_id, bot_token)
    message = chat.messages.get(int(message_id))
    if message is None or message.deleted or message.sender_id != int(user_id):
        raise ControlError(404, "message not found")
    return chat, message


def _own_live_location(
    world: World, user_id: int, chat_id: int, message_id: int, bot_token: str | None
) -> tuple[Chat, StoredMessage]:
    chat, message = _own_message(world, user_id, chat_id, message_id, bot_token)
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
    user = user_of(world, user_id)
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
    chat, message = _own_message(world, user_id, chat_id, message_id, bot_token)
    if "text" not in message.data:
        raise ControlError(400, "there is no text in the message to edit")
    changes = _text(text)
    await edit_message(world, chat, message, changes, remove=("entities",), markup=False)
    return message_view(message)


async def edit_caption(
    world: World,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    caption: str | None = None,
    bot_token: str | None = None,
) -> dict[str, Any]:
    """The user edits the caption of one of their media messages (none: removes it)."""
    chat, message = _own_message(world, user_id, chat_id, message_id, bot_token)
    if not any(key in message.data for key in CAPTIONED):
        raise ControlError(400, "there is no caption in the message to edit")
    changes = _caption(caption)
    await edit_message(
        world, chat, message, changes, remove=("caption", "caption_entities"), markup=False
    )
    return message_view(message)
