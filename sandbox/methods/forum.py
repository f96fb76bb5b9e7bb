"""Forum topics: create, edit, close, reopen, delete (and the General topic)."""

from __future__ import annotations

from typing import Any

from sandbox.access import chat_for_bot, require_presence
from sandbox.errors import bad_request
from sandbox.forum import create_topic, set_topic_closed
from sandbox.messaging import post_message
from sandbox.methods.registry import Call, method
from sandbox.state import GENERAL_TOPIC_ID, Chat, Topic


def _forum(call: Call) -> Chat:
    chat = chat_for_bot(call.world, call.bot, call.params)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(call: Call, chat: Chat, *, general: bool = False) -> Topic:
    thread_id = GENERAL_TOPIC_ID if general else call.params.integer("message_thread_id")
    topic = chat.topics.get(thread_id or 0)
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID" if not general else "message thread not found")
    return topic


def _may_manage(call: Call, chat: Chat, topic: Topic | None, action: str) -> None:
    member = require_presence(chat, call.bot)
    if member is not None and member.right("can_manage_topics"):
        return
    if topic is not None and topic.creator_id == call.bot.user.id and action != "create":
        return
    raise bad_request(f"not enough rights to {action} a topic")


@method("createForumTopic")
async def create_forum_topic(call: Call) -> dict[str, Any]:
    """Create a topic (needs can_manage_topics); posts the forum_topic_created message."""
    chat = _forum(call)
    _may_manage(call, chat, None, "create")
    params = call.params
    name = params.string("name", required=True)
    topic = await create_topic(
        call.world,
        chat,
        call.bot.user,
        name,
        icon_color=params.integer("icon_color"),
        icon_custom_emoji_id=params.string("icon_custom_emoji_id"),
    )
    return topic.to_json()


@method("editForumTopic", "editGeneralForumTopic")
async def edit_forum_topic(call: Call) -> bool:
    """Rename a topic or change its icon."""
    chat = _forum(call)
    general = call.method.lower() == "editgeneralforumtopic"
    topic = _topic(call, chat, general=general)
    _may_manage(call, chat, topic, "edit")
    params = call.params
    name = params.string("name")
    emoji = params.string("icon_custom_emoji_id")
    changes: dict[str, Any] = {}
    if name is not None:
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        if name != topic.name:
            changes["name"] = name
    if emoji is not None and emoji != (topic.icon_custom_emoji_id or ""):
        changes["icon_custom_emoji_id"] = emoji
    if not changes:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = changes.get("name", topic.name)
    if "icon_custom_emoji_id" in changes:
        topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] or None
    await post_message(
        call.world,
        chat,
        call.bot.user,
        {"forum_topic_edited": changes},
        thread_id=topic.message_thread_id,
    )
    return True


async def _close(call: Call, closed: bool, general: bool) -> bool:
    chat = _forum(call)
    topic = _topic(call, chat, general=general)
    _may_manage(call, chat, topic, "close" if closed else "reopen")
    if topic.is_closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    await set_topic_closed(call.world, chat, topic, call.bot.user, closed)
    return True


@method("closeForumTopic")
async def close_forum_topic(call: Call) -> bool:
    """Close a topic: members can no longer post in it."""
    return await _close(call, True, False)


@method("reopenForumTopic")
async def reopen_forum_topic(call: Call) -> bool:
    """Reopen a closed topic."""
    return await _close(call, False, False)


@method("closeGeneralForumTopic")
async def close_general_forum_topic(call: Call) -> bool:
    """Close the General topic."""
    return await _close(call, True, True)


@method("reopenGeneralForumTopic")
async def reopen_general_forum_topic(call: Call) -> bool:
    """Reopen the General topic."""
    return await _close(call, False, True)


@method("deleteForumTopic")
async def delete_forum_topic(call: Call) -> bool:
    """Delete a topic with all its messages (needs can_delete_messages)."""
    chat = _forum(call)
    topic = _topic(call, chat)
    if topic.message_thread_id == GENERAL_TOPIC_ID:
        raise bad_request("TOPIC_ID_INVALID")
    member = require_presence(chat, call.bot)
    if member is None or not member.right("can_delete_messages"):
        raise bad_request("not enough rights to delete a topic")
    for message in chat.live_messages(topic.message_thread_id):
        message.deleted = True
    del chat.topics[topic.message_thread_id]
    await call.world.notify({"type": "topic", "chat_id": chat.id})
    return True


@method("getForumTopicIconStickers")
async def get_forum_topic_icon_stickers(call: Call) -> list[dict[str, Any]]:
    """Return the custom emoji usable as topic icons (none in the sandbox)."""
    return []
