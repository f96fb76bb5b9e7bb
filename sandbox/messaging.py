"""Posting, editing and deleting messages in a chat, and fanning the updates out to bots."""

from __future__ import annotations

from typing import Any

from sandbox.state import GENERAL_TOPIC_ID, Bot, Chat, Member, StoredMessage, User, World

SERVICE_KEYS = {
    "new_chat_members",
    "left_chat_member",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "new_chat_title",
    "group_chat_created",
    "supergroup_chat_created",
}


async def deliver(
    world: World, bot: Bot, update_type: str, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """Queue an update for ``bot`` (if its allowed_updates lets it through); return it."""
    update = await bot.updates.put(update_type, payload)
    if update is not None:
        await world.notify(
            {"type": "update", "bot_id": bot.user.id, "update_id": update["update_id"]}
        )
    return update


def bots_in_chat(world: World, chat: Chat) -> list[tuple[Bot, Member]]:
    """Return the bots present in a group chat with their membership."""
    found = []
    for user_id, member in chat.members.items():
        bot = world.bots_by_id.get(user_id)
        if bot is not None and member.present:
            found.append((bot, member))
    return found


def reply_json(message: StoredMessage) -> dict[str, Any]:
    """Return the message JSON as embedded in ``reply_to_message`` (one level deep)."""
    data = message.snapshot()
    data.pop("reply_to_message", None)
    return data


def _addressed_to(bot: Bot, chat: Chat, message: StoredMessage) -> bool:
    """Tell whether a group message reaches a bot in privacy mode."""
    data = message.data
    if SERVICE_KEYS & data.keys():
        return True
    text = data.get("text") or data.get("caption") or ""
    username = bot.user.username or ""
    if text.startswith("/"):
        command = text.split()[0]
        if "@" not in command or command.split("@", 1)[1].lower() == username.lower():
            return True
    if username and f"@{username.lower()}" in text.lower():
        return True
    reply = data.get("reply_to_message")
    return bool(reply and reply.get("from", {}).get("id") == bot.user.id)


async def fanout(world: World, chat: Chat, message: StoredMessage, update_type: str) -> None:
    """Send a message/edited_message update to every bot that would see it."""
    sender = world.users[message.sender_id]
    if sender.is_bot:
        return
    if chat.is_private:
        assert chat.bot_id is not None
        bot = world.bots_by_id[chat.bot_id]
        await deliver(world, bot, update_type, message.snapshot())
        return
    for bot, member in bots_in_chat(world, chat):
        if (
            member.status in ("creator", "administrator")
            or bot.can_read_all_group_messages
            or _addressed_to(bot, chat, message)
        ):
            await deliver(world, bot, update_type, message.snapshot())


async def post_message(
    world: World,
    chat: Chat,
    sender: User,
    content: dict[str, Any],
    *,
    thread_id: int | None = None,
    reply_to: StoredMessage | None = None,
    markup: dict[str, Any] | None = None,
    message_id: int | None = None,
) -> StoredMessage:
    """Store a new message in ``chat`` from ``sender`` and deliver it to the bots."""
    mid = message_id if message_id is not None else chat.allocate_message_id()
    data: dict[str, Any] = {
        "message_id": mid,
        "from": sender.to_json(),
        "chat": world.chat_json(chat),
        "date": world.now(),
    }
    if chat.is_forum and thread_id and thread_id != GENERAL_TOPIC_ID:
        data["message_thread_id"] = thread_id
        data["is_topic_message"] = True
        root = chat.messages.get(thread_id)
        if reply_to is None and root is not None and thread_id != mid:
            reply_to = root
    elif thread_id and not chat.is_forum:
        data["message_thread_id"] = thread_id
    if reply_to is not None:
        data["reply_to_message"] = reply_json(reply_to)
    data.update(content)
    if markup and "inline_keyboard" in markup:
        data["reply_markup"] = markup
    stored = StoredMessage(
        chat_id=chat.id,
        message_id=mid,
        data=data,
        sender_id=sender.id,
        thread_id=thread_id if thread_id else None,
        sent_markup=markup,
    )
    chat.messages[mid] = stored
    await fanout(world, chat, stored, "message")
    await world.notify({"type": "message", "chat_id": chat.id, "message_id": mid})
    return stored


async def edit_message(
    world: World,
    chat: Chat,
    message: StoredMessage,
    changes: dict[str, Any],
    *,
    remove: tuple[str, ...] = (),
    markup: dict[str, Any] | bool | None = False,
    content_edit: bool = True,
) -> StoredMessage:
    """Apply an edit; users' edits become ``edited_message`` updates."""
    for key in remove:
        message.data.pop(key, None)
    message.data.update(changes)
    if markup is not False:
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message.data["reply_markup"] = markup
            message.sent_markup = markup
        else:
            message.data.pop("reply_markup", None)
            message.sent_markup = None
    if content_edit:
        message.data["edit_date"] = world.now()
        await fanout(world, chat, message, "edited_message")
    await world.notify({"type": "edit", "chat_id": chat.id, "message_id": message.message_id})
    return message


async def delete_message(world: World, chat: Chat, message: StoredMessage) -> None:
    """Remove a message from the chat."""
    message.deleted = True
    message.pinned = False
    await world.notify({"type": "delete", "chat_id": chat.id, "message_id": message.message_id})
