"""Forum topic lifecycle shared by the Bot API and the control API."""

from __future__ import annotations

from sandbox.errors import bad_request
from sandbox.messaging import post_message
from sandbox.state import TOPIC_COLORS, Chat, Topic, User, World


async def create_topic(
    world: World,
    chat: Chat,
    creator: User,
    name: str,
    *,
    icon_color: int | None = None,
    icon_custom_emoji_id: str | None = None,
) -> Topic:
    """Create a forum topic; its id is the id of its forum_topic_created service message."""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    if icon_color is None:
        icon_color = TOPIC_COLORS[len(chat.topics) % len(TOPIC_COLORS)]
    elif icon_color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    thread_id = chat.allocate_message_id()
    topic = Topic(
        message_thread_id=thread_id,
        name=name,
        icon_color=icon_color,
        creator_id=creator.id,
        icon_custom_emoji_id=icon_custom_emoji_id or None,
    )
    chat.topics[thread_id] = topic
    created = {"name": name, "icon_color": icon_color}
    if topic.icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    await post_message(
        world,
        chat,
        creator,
        {"forum_topic_created": created},
        thread_id=thread_id,
        message_id=thread_id,
    )
    return topic


async def set_topic_closed(
    world: World, chat: Chat, topic: Topic, actor: User, closed: bool
) -> None:
    """Close or reopen a topic and post the service message into it."""
    topic.is_closed = closed
    key = "forum_topic_closed" if closed else "forum_topic_reopened"
    await post_message(world, chat, actor, {key: {}}, thread_id=topic.message_thread_id)
