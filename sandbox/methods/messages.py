"""Sending methods: text, media, albums, locations, venues, contacts, copies, forwards."""

from __future__ import annotations

import random
from typing import Any

from sandbox.access import (
    bot_member,
    chat_for_bot,
    find_message,
    reply_target,
    require_presence,
    require_write,
    resolve_thread,
)
from sandbox.errors import bad_request
from sandbox.html_entities import format_text, utf16_len
from sandbox.markup import markup_param
from sandbox.media import input_file
from sandbox.messaging import SERVICE_KEYS, post_message
from sandbox.methods.registry import Call, method
from sandbox.params import Params
from sandbox.state import Chat, StoredMessage

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
COPYABLE_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "voice",
    "video",
    "audio",
    "animation",
    "sticker",
    "video_note",
    "location",
    "venue",
    "contact",
    "caption",
    "caption_entities",
)


def text_content(params: Params) -> dict[str, Any]:
    """Parse ``text`` with parse_mode/entities and enforce Telegram's 4096 limit."""
    raw = params.string("text", required=True, empty_error="message text is empty")
    text, entities = format_text(raw, params.string("parse_mode"), params.json("entities"))
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return content


def caption_content(
    caption: str | None, parse_mode: str | None, entities: Any = None
) -> dict[str, Any]:
    """Parse a caption and enforce Telegram's 1024 limit."""
    if caption is None:
        return {}
    text, parsed = format_text(caption, parse_mode, entities)
    if utf16_len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    content: dict[str, Any] = {}
    if text:
        content["caption"] = text
    if parsed:
        content["caption_entities"] = parsed
    return content


def _params_caption(params: Params) -> dict[str, Any]:
    return caption_content(
        params.string("caption"), params.string("parse_mode"), params.json("caption_entities")
    )


async def send(
    call: Call,
    content: dict[str, Any],
    *,
    permission: str = "can_send_messages",
    chat: Chat | None = None,
) -> StoredMessage:
    """Post ``content`` from the bot after Telegram's access, thread, reply and rate checks."""
    world, bot, params = call.world, call.bot, call.params
    if chat is None:
        chat = chat_for_bot(world, bot, params)
    require_write(world, bot, chat, permission)
    member = bot_member(chat, bot)
    thread = resolve_thread(world, chat, params.integer("message_thread_id"), member)
    reply = reply_target(chat, params)
    if reply is not None and chat.is_forum and thread is None and reply.thread_id:
        thread = resolve_thread(world, chat, reply.thread_id, member)
    markup = markup_param(params)
    world.ratelimiter.check(bot.user.id, chat.id, chat.is_private)
    return await post_message(
        world, chat, bot.user, content, thread_id=thread, reply_to=reply, markup=markup
    )


@method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    """Send a text message (HTML parse mode, entities, keyboards)."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    content = text_content(call.params)
    preview = call.params.json("link_preview_options")
    if isinstance(preview, dict):
        content["link_preview_options"] = preview
    return (await send(call, content, chat=chat)).snapshot()


@method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    """Send a photo (upload, file_id or URL) with an optional caption."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    caption = _params_caption(call.params)
    stored = await input_file(
        call.world, call.http, call.params.file("photo"), "photo", param="photo"
    )
    content: dict[str, Any] = {"photo": [stored.photo_size_json()], **caption}
    if call.params.flag("has_spoiler"):
        content["has_media_spoiler"] = True
    return (await send(call, content, chat=chat, permission="can_send_photos")).snapshot()


def _media_sender(kind: str, permission: str) -> Any:
    async def handler(call: Call) -> dict[str, Any]:
        """Send a file of this kind."""
        chat = chat_for_bot(call.world, call.bot, call.params)
        caption = _params_caption(call.params) if kind != "sticker" else {}
        stored = await input_file(call.world, call.http, call.params.file(kind), kind, param=kind)
        if call.params.string("file_name") is not None:
            stored.file_name = call.params.string("file_name")
        for name in ("duration", "width", "height"):
            value = call.params.integer(name)
            if value is not None:
                setattr(stored, name, value)
        content = {kind: stored.media_json(), **caption}
        return (await send(call, content, chat=chat, permission=permission)).snapshot()

    handler.__doc__ = f"Send a {kind}."
    return handler


method("sendDocument")(_media_sender("document", "can_send_documents"))
method("sendVoice")(_media_sender("voice", "can_send_voice_notes"))
method("sendVideo")(_media_sender("video", "can_send_videos"))
method("sendAudio")(_media_sender("audio", "can_send_audios"))
method("sendAnimation")(_media_sender("animation", "can_send_other_messages"))


@method("sendMediaGroup")
async def send_media_group(call: Call) -> list[dict[str, Any]]:
    """Send an album: 2-10 messages sharing a media_group_id."""
    world, bot, params = call.world, call.bot, call.params
    chat = chat_for_bot(world, bot, params)
    media = params.json("media", error="can't parse media JSON object")
    if not isinstance(media, list) or not media:
        raise bad_request("media is empty")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media items: an album must have 2-10 items")
    kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
    if not kinds <= {"photo", "video", "document", "audio"}:
        raise bad_request("can't parse InputMedia JSON object")
    if len(kinds) > 1 and ("document" in kinds or "audio" in kinds):
        raise bad_request("documents and audio files can't be mixed with other media types")
    require_write(world, bot, chat, "can_send_photos" if "photo" in kinds else "can_send_messages")
    member = bot_member(chat, bot)
    thread = resolve_thread(world, chat, params.integer("message_thread_id"), member)
    reply = reply_target(chat, params)
    contents = []
    for item in media:
        kind = item["type"]
        caption = caption_content(
            item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
        )
        stored = await input_file(
            world, call.http, params.resolve_media(item.get("media", "")), kind, param="media"
        )
        body: Any = [stored.photo_size_json()] if kind == "photo" else stored.media_json()
        contents.append({kind: body, **caption})
    world.ratelimiter.check(bot.user.id, chat.id, chat.is_private, cost=len(contents))
    group_id = str(random.randint(10**17, 10**18 - 1))
    sent = []
    for index, content in enumerate(contents):
        content["media_group_id"] = group_id
        message = await post_message(
            world,
            chat,
            bot.user,
            content,
            thread_id=thread,
            reply_to=reply if index == 0 else None,
        )
        sent.append(message.snapshot())
    return sent


def location_content(params: Params) -> dict[str, Any]:
    """Validate latitude/longitude and the live location fields."""
    latitude = params.number("latitude", required=True)
    longitude = params.number("longitude", required=True)
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise bad_request("wrong location specified")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    accuracy = params.number("horizontal_accuracy")
    if accuracy is not None:
        if not 0 <= accuracy <= 1500:
            raise bad_request("wrong horizontal accuracy specified")
        location["horizontal_accuracy"] = accuracy
    live_period = params.integer("live_period")
    if live_period is not None:
        if not (60 <= live_period <= 86400 or live_period == 0x7FFFFFFF):
            raise bad_request("wrong live period specified")
        location["live_period"] = live_period
        for name in ("heading", "proximity_alert_radius"):
            value = params.integer(name)
            if value is not None:
                location[name] = value
    return location


@method("sendLocation")
async def send_location(call: Call) -> dict[str, Any]:
    """Send a static or live location."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    content = {"location": location_content(call.params)}
    return (await send(call, content, chat=chat, permission="can_send_other_messages")).snapshot()


@method("sendVenue")
async def send_venue(call: Call) -> dict[str, Any]:
    """Send a venue (a location with a title and address)."""
    params = call.params
    chat = chat_for_bot(call.world, call.bot, params)
    location = location_content(params)
    title = params.string("title", required=True)
    address = params.string("address", required=True)
    venue: dict[str, Any] = {"location": location, "title": title, "address": address}
    for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if params.string(name):
            venue[name] = params.string(name)
    content = {"venue": venue, "location": location}
    return (await send(call, content, chat=chat, permission="can_send_other_messages")).snapshot()


@method("sendContact")
async def send_contact(call: Call) -> dict[str, Any]:
    """Send a phone contact."""
    params = call.params
    chat = chat_for_bot(call.world, call.bot, params)
    contact = {
        "phone_number": params.string("phone_number", required=True),
        "first_name": params.string("first_name", required=True),
    }
    if params.string("last_name"):
        contact["last_name"] = params.string("last_name")
    return (await send(call, {"contact": contact}, chat=chat)).snapshot()


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    """Show a chat action ("typing", "upload_photo", ...) in the chat."""
    world, bot, params = call.world, call.bot, call.params
    chat = chat_for_bot(world, bot, params)
    action = params.string("action", required=True)
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    require_write(world, bot, chat)
    resolve_thread(world, chat, params.integer("message_thread_id"), bot_member(chat, bot))
    world.chat_actions.append(
        {"chat_id": chat.id, "action": action, "date": world.now(), "bot_id": bot.user.id}
    )
    del world.chat_actions[:-200]
    await world.notify({"type": "chat_action", "chat_id": chat.id, "action": action})
    return True


def _source(call: Call, error: str) -> StoredMessage:
    world, bot, params = call.world, call.bot, call.params
    source_chat = chat_for_bot(world, bot, params, "from_chat_id")
    require_presence(source_chat, bot)
    return find_message(source_chat, params.integer("message_id", required=True), error)


@method("copyMessage")
async def copy_message(call: Call) -> dict[str, Any]:
    """Copy a message's content without a link to the original; return its MessageId."""
    params = call.params
    chat = chat_for_bot(call.world, call.bot, params)
    source = _source(call, "message to copy not found")
    if SERVICE_KEYS & source.data.keys():
        raise bad_request("message can't be copied")
    content = {k: v for k, v in source.snapshot().items() if k in COPYABLE_KEYS}
    if "location" in content:
        content["location"].pop("live_period", None)
    if params.has("caption"):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_params_caption(params))
    message = await send(call, content, chat=chat)
    return {"message_id": message.message_id}


@method("forwardMessage")
async def forward_message(call: Call) -> dict[str, Any]:
    """Forward a message, keeping its origin."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    source = _source(call, "message to forward not found")
    if SERVICE_KEYS & source.data.keys():
        raise bad_request("message can't be forwarded")
    data = source.snapshot()
    content = {k: v for k, v in data.items() if k in COPYABLE_KEYS}
    origin = data.get("forward_origin") or {
        "type": "user",
        "sender_user": data["from"],
        "date": data["date"],
    }
    content["forward_origin"] = origin
    return (await send(call, content, chat=chat)).snapshot()


def _many_sources(call: Call) -> tuple[Chat, list[StoredMessage]]:
    world, bot, params = call.world, call.bot, call.params
    source_chat = chat_for_bot(world, bot, params, "from_chat_id")
    ids = params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids is empty")
    found = []
    for message_id in sorted(int(i) for i in ids):
        message = source_chat.messages.get(message_id)
        if message is not None and not message.deleted and not (SERVICE_KEYS & message.data.keys()):
            found.append(message)
    if not found:
        raise bad_request("there are no messages to forward")
    return source_chat, found


@method("copyMessages")
async def copy_messages(call: Call) -> list[dict[str, Any]]:
    """Copy several messages (skipping missing ones); return their MessageIds."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    _, sources = _many_sources(call)
    result = []
    for source in sources:
        content = {k: v for k, v in source.snapshot().items() if k in COPYABLE_KEYS}
        if call.params.flag("remove_caption"):
            content.pop("caption", None)
            content.pop("caption_entities", None)
        message = await send(call, content, chat=chat)
        result.append({"message_id": message.message_id})
    return result


@method("forwardMessages")
async def forward_messages(call: Call) -> list[dict[str, Any]]:
    """Forward several messages (skipping missing ones); return their MessageIds."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    _, sources = _many_sources(call)
    result = []
    for source in sources:
        data = source.snapshot()
        content = {k: v for k, v in data.items() if k in COPYABLE_KEYS}
        content["forward_origin"] = data.get("forward_origin") or {
            "type": "user",
            "sender_user": data["from"],
            "date": data["date"],
        }
        message = await send(call, content, chat=chat)
        result.append({"message_id": message.message_id})
    return result
