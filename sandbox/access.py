"""What a bot may do where: chat lookup, write access, admin rights, topics, replies."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request, forbidden
from sandbox.membership import effective_permissions
from sandbox.params import Params
from sandbox.state import GENERAL_TOPIC_ID, Bot, Chat, Member, StoredMessage, World


def find_chat(world: World, bot: Bot, chat_id: int | str) -> Chat:
    """Return the chat a bot addresses by id or @username, or raise "chat not found"."""
    if isinstance(chat_id, str):
        name = chat_id.lstrip("@").lower()
        for chat in world.chats.values():
            if chat.username and chat.username.lower() == name:
                return chat
        raise bad_request("chat not found")
    if chat_id > 0:
        user = world.users.get(chat_id)
        if user is None or user.is_bot:
            raise bad_request("chat not found")
        return world.private_chat(bot, chat_id)
    group = world.chats.get(chat_id)
    if group is None:
        raise bad_request("chat not found")
    return group


def bot_member(chat: Chat, bot: Bot) -> Member | None:
    """Return the bot's membership in a group chat."""
    return chat.members.get(bot.user.id)


def _kind(chat: Chat) -> str:
    return "supergroup chat" if chat.type == "supergroup" else "group chat"


def require_presence(chat: Chat, bot: Bot) -> Member | None:
    """Raise 403 unless the bot is in the group (private chats always pass)."""
    if chat.is_private:
        return None
    member = bot_member(chat, bot)
    if (
        member is None
        or member.status == "left"
        or (member.status == "restricted" and not member.is_member)
    ):
        raise forbidden(f"bot is not a member of the {_kind(chat)}")
    if member.status == "kicked":
        raise forbidden(f"bot was kicked from the {_kind(chat)}")
    return member


def chat_for_bot(world: World, bot: Bot, params: Params, name: str = "chat_id") -> Chat:
    """Look up the chat named by a parameter and check the bot is in it."""
    chat = find_chat(world, bot, params.chat_id(name))
    require_presence(chat, bot)
    return chat


def require_write(
    world: World, bot: Bot, chat: Chat, permission: str = "can_send_messages"
) -> None:
    """Raise Telegram's 403/400 if the bot may not post into ``chat``."""
    if chat.is_private:
        assert chat.user_id is not None
        if chat.user_id in bot.blocked_by:
            raise forbidden("bot was blocked by the user")
        if chat.user_id not in bot.started_by:
            until = bot.dm_allowed_until.get(chat.user_id, 0)
            if world.now() > until:
                raise forbidden("bot can't initiate conversation with a user")
        return
    member = require_presence(chat, bot)
    perms = effective_permissions(chat, member)
    if not perms.get(permission, True):
        what = {
            "can_send_messages": "text messages",
            "can_send_photos": "photos",
            "can_send_documents": "documents",
            "can_send_other_messages": "other messages",
        }.get(permission, "messages")
        raise bad_request(f"not enough rights to send {what} to the chat")


def require_right(chat: Chat, bot: Bot, right: str, description: str) -> Member:
    """Raise 400 ``description`` unless the bot is an admin holding ``right``."""
    member = require_presence(chat, bot)
    if chat.is_private or member is None or not member.right(right):
        raise bad_request(description)
    return member


def resolve_thread(
    world: World, chat: Chat, thread_id: int | None, sender_member: Member | None
) -> int | None:
    """Validate message_thread_id: topic exists and is open (Telegram's errors otherwise)."""
    if chat.is_private:
        return None
    if chat.is_forum:
        # no thread in a forum means the General topic, which can be closed too
        topic = chat.topics.get(thread_id or GENERAL_TOPIC_ID)
        if topic is None and thread_id not in (None, 0, GENERAL_TOPIC_ID):
            raise bad_request("message thread not found")
        if topic is not None and topic.is_closed:
            # As in Telegram: only admins who manage topics and the topic's creator post there.
            bypass = world.config.closed_topic_admin_bypass and (
                sender_member is not None
                and (
                    sender_member.right("can_manage_topics")
                    or topic.creator_id == sender_member.user_id
                )
            )
            if not bypass:
                raise bad_request("TOPIC_CLOSED")
        return thread_id or None
    if not thread_id:
        return None
    root = chat.messages.get(thread_id)
    if root is None or root.deleted:
        raise bad_request("message thread not found")
    return thread_id


def find_message(chat: Chat, message_id: int | None, error: str) -> StoredMessage:
    """Return a live message of the chat or raise 400 ``error``."""
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        raise bad_request(error)
    return message


def reply_target(chat: Chat, params: Params) -> StoredMessage | None:
    """Resolve reply_to_message_id / reply_parameters to a message of the chat."""
    reply_params: Any = params.json("reply_parameters") or {}
    message_id = params.integer("reply_to_message_id")
    allow_missing = params.flag("allow_sending_without_reply")
    if isinstance(reply_params, dict) and reply_params.get("message_id"):
        message_id = int(reply_params["message_id"])
        allow_missing = bool(reply_params.get("allow_sending_without_reply", allow_missing))
    if not message_id:
        return None
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return message
