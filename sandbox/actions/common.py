"""Shared pieces of the control actions: errors, lookups, message views."""

from __future__ import annotations

import base64
from typing import Any

from sandbox.errors import ApiError
from sandbox.state import (
    Bot,
    Chat,
    StoredMessage,
    Topic,
    User,
    World,
)


class ControlError(ApiError):
    """A control API call that cannot be carried out (bad input or not allowed)."""


def user_of(world: World, user_id: int) -> User:
    """Return a user by id or raise a 404 control error."""
    user = world.users.get(int(user_id))
    if user is None:
        raise ControlError(404, f"user {user_id} not found")
    return user


def bot_of(world: World, bot_token: str | None = None) -> Bot:
    """Return the bot with this token (default: the first bot) or raise."""
    if bot_token is None:
        try:
            return world.default_bot()
        except LookupError as exc:
            raise ControlError(400, "no bot created yet") from exc
    bot = world.bots.get(bot_token)
    if bot is None:
        raise ControlError(404, f"bot with token {bot_token!r} not found")
    return bot


def chat_of(world: World, chat_id: int, bot_token: str | None = None) -> Chat:
    """Return a group by id, or the private chat with the bot for a user id."""
    chat_id = int(chat_id)
    if chat_id > 0:
        user_of(world, chat_id)
        return world.private_chat(bot_of(world, bot_token), chat_id)
    chat = world.chats.get(chat_id)
    if chat is None:
        raise ControlError(404, f"chat {chat_id} not found")
    return chat


def decode_data(data: str | bytes) -> bytes:
    """Return bytes from base64 text (bytes pass through)."""
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


def topic_view(chat: Chat, topic: Topic) -> dict[str, Any]:
    """Return a forum topic with its closed flag and creator."""
    return {**topic.to_json(), "is_closed": topic.is_closed, "creator_id": topic.creator_id}


def owner_of(chat: Chat) -> int:
    """Return the user id of the group's owner."""
    return next(uid for uid, m in chat.members.items() if m.status == "creator")
