"""Changing sent messages: edits, live locations, deletion, pins."""

from __future__ import annotations

from typing import Any

from sandbox.access import bot_member, chat_for_bot, find_message, require_right
from sandbox.errors import bad_request
from sandbox.markup import markup_param
from sandbox.media import input_file
from sandbox.messaging import delete_message, edit_message, post_message, reply_json
from sandbox.methods.messages import caption_content, location_content, text_content
from sandbox.methods.registry import Call, method
from sandbox.state import Chat, StoredMessage

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
MEDIA_KEYS = ("photo", "document", "voice", "video", "audio", "animation")


def _target(call: Call) -> tuple[Chat, StoredMessage]:
    params = call.params
    if params.has("inline_message_id") and not params.has("chat_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = chat_for_bot(call.world, call.bot, params)
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = find_message(chat, message_id, "message to edit not found")
    if message.sender_id != call.bot.user.id:
        raise bad_request("message can't be edited")
    return chat, message


def _same_markup(message: StoredMessage, markup: dict[str, Any] | None) -> bool:
    return message.data.get("reply_markup") == (
        markup if markup and "inline_keyboard" in markup else None
    )


@method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    """Edit the text (and keyboard) of a bot's message."""
    chat, message = _target(call)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    content = text_content(call.params)
    markup = markup_param(call.params)
    same_text = message.data.get("text") == content["text"] and message.data.get(
        "entities"
    ) == content.get("entities")
    if same_text and _same_markup(message, markup):
        raise bad_request(NOT_MODIFIED)
    await edit_message(call.world, chat, message, content, remove=("entities",), markup=markup)
    return message.snapshot()


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    """Edit the caption (and keyboard) of a bot's media message."""
    chat, message = _target(call)
    if not any(key in message.data for key in MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    params = call.params
    content = caption_content(
        params.string("caption") or "", params.string("parse_mode"), params.json("caption_entities")
    )
    markup = markup_param(params)
    same = message.data.get("caption") == content.get("caption") and message.data.get(
        "caption_entities"
    ) == content.get("caption_entities")
    if same and _same_markup(message, markup):
        raise bad_request(NOT_MODIFIED)
    await edit_message(
        call.world,
        chat,
        message,
        content,
        remove=("caption", "caption_entities"),
        markup=markup,
    )
    return message.snapshot()


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    """Replace or remove the inline keyboard of a bot's message."""
    chat, message = _target(call)
    markup = markup_param(call.params)
    if _same_markup(message, markup):
        raise bad_request(NOT_MODIFIED)
    await edit_message(call.world, chat, message, {}, markup=markup, content_edit=False)
    return message.snapshot()


def _live(call: Call) -> tuple[Chat, StoredMessage, dict[str, Any]]:
    chat, message = _target(call)
    location = message.data.get("location")
    if not location or "live_period" not in location or "venue" in message.data:
        raise bad_request("message can't be edited")
    period = location["live_period"]
    if period != 0x7FFFFFFF and message.date + period < call.world.now():
        raise bad_request("message can't be edited")
    return chat, message, location


@method("editMessageLiveLocation")
async def edit_message_live_location(call: Call) -> dict[str, Any]:
    """Move a live location the bot is sharing."""
    chat, message, old = _live(call)
    params = call.params
    new = location_content(params)
    new.pop("live_period", None)
    new["live_period"] = params.integer("live_period") or old["live_period"]
    for name in ("heading", "proximity_alert_radius"):
        value = params.integer(name)
        if value is not None:
            new[name] = value
    markup = markup_param(params)
    if new == old and _same_markup(message, markup):
        raise bad_request(NOT_MODIFIED)
    await edit_message(call.world, chat, message, {"location": new}, markup=markup)
    return message.snapshot()


@method("stopMessageLiveLocation")
async def stop_message_live_location(call: Call) -> dict[str, Any]:
    """Stop a live location before its live_period ends."""
    chat, message, old = _live(call)
    elapsed = max(call.world.now() - message.date, 0)
    stopped = {**old, "live_period": elapsed}
    markup = markup_param(call.params)
    await edit_message(call.world, chat, message, {"location": stopped}, markup=markup)
    return message.snapshot()


def _can_delete(call: Call, chat: Chat, message: StoredMessage) -> bool:
    if "forum_topic_created" in message.data:
        return False
    if call.world.now() - message.date > call.world.config.delete_window_seconds:
        return False
    if chat.is_private:
        return True
    if message.sender_id == call.bot.user.id:
        return True
    member = bot_member(chat, call.bot)
    if member is None:
        return False
    if chat.type == "group":  # any administrator of a basic group deletes any message
        return member.status in ("creator", "administrator")
    return member.right("can_delete_messages")


@method("deleteMessage")
async def delete_message_method(call: Call) -> bool:
    """Delete a message (48-hour window; others' messages need can_delete_messages)."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    message_id = call.params.integer("message_id", required=True)
    message = find_message(chat, message_id, "message to delete not found")
    if not _can_delete(call, chat, message):
        raise bad_request("message can't be deleted")
    await delete_message(call.world, chat, message)
    return True


@method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    """Delete several messages; those that cannot be deleted are skipped."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    ids = call.params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids is empty")
    deleted = False
    for message_id in ids:
        message = chat.messages.get(int(message_id))
        if message is not None and not message.deleted and _can_delete(call, chat, message):
            await delete_message(call.world, chat, message)
            deleted = True
    if not deleted:
        raise bad_request("message can't be deleted")
    return True


def _pin_rights(call: Call, chat: Chat) -> None:
    if not chat.is_private:
        require_right(
            chat,
            call.bot,
            "can_pin_messages",
            "not enough rights to manage pinned messages in the chat",
        )


@method("pinChatMessage")
async def pin_chat_message(call: Call) -> bool:
    """Pin a message (groups: can_pin_messages); groups get a pinned_message service message."""
    world = call.world
    chat = chat_for_bot(world, call.bot, call.params)
    _pin_rights(call, chat)
    message = find_message(
        chat, call.params.integer("message_id", required=True), "message to pin not found"
    )
    message.pinned = True
    await world.notify({"type": "pin", "chat_id": chat.id, "message_id": message.message_id})
    await post_message(
        world,
        chat,
        call.bot.user,
        {"pinned_message": reply_json(message)},
        thread_id=message.thread_id,
    )
    return True


@method("unpinChatMessage")
async def unpin_chat_message(call: Call) -> bool:
    """Unpin one message (by default the most recent pin)."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    _pin_rights(call, chat)
    message_id = call.params.integer("message_id")
    pinned = [m for m in chat.live_messages() if m.pinned]
    if message_id is None:
        if not pinned:
            raise bad_request("message to unpin not found")
        target = pinned[-1]
    else:
        target = find_message(chat, message_id, "message to unpin not found")
        if not target.pinned:
            raise bad_request("message to unpin not found")
    target.pinned = False
    await call.world.notify({"type": "pin", "chat_id": chat.id, "message_id": target.message_id})
    return True


@method("unpinAllChatMessages", "unpinAllForumTopicMessages", "unpinAllGeneralForumTopicMessages")
async def unpin_all(call: Call) -> bool:
    """Unpin every pinned message of the chat (or of one forum topic)."""
    chat = chat_for_bot(call.world, call.bot, call.params)
    _pin_rights(call, chat)
    thread_id = call.params.integer("message_thread_id")
    if call.method.lower() == "unpinallgeneralforumtopicmessages":
        thread_id = 1
    for message in chat.live_messages(thread_id):
        message.pinned = False
    await call.world.notify({"type": "pin", "chat_id": chat.id})
    return True


@method("editMessageMedia")
async def edit_message_media(call: Call) -> dict[str, Any]:
    """Replace the photo/document/video/audio of a bot's media message (and its caption)."""
    chat, message = _target(call)
    old_kind = next((key for key in MEDIA_KEYS if key in message.data), None)
    if old_kind is None:
        raise bad_request("there is no media in the message to edit")
    media = call.params.json("media", error="can't parse InputMedia JSON object")
    if not isinstance(media, dict) or media.get("type") not in MEDIA_KEYS:
        raise bad_request("can't parse InputMedia JSON object")
    kind = str(media["type"])
    if message.data.get("media_group_id") and (kind == "document") != (old_kind == "document"):
        raise bad_request("can't change the media type of an album item")
    stored = await input_file(
        call.world,
        call.http,
        call.params.resolve_media(media.get("media", "")),
        kind,
        param="media",
    )
    caption = caption_content(
        media.get("caption"), media.get("parse_mode"), media.get("caption_entities")
    )
    body: Any = [stored.photo_size_json()] if kind == "photo" else stored.media_json()
    await edit_message(
        call.world,
        chat,
        message,
        {kind: body, **caption},
        remove=(*MEDIA_KEYS, "caption", "caption_entities"),
        markup=markup_param(call.params),
    )
    return message.snapshot()
