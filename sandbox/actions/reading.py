"""Reading what chats show and waiting for the next message."""

from __future__ import annotations

import asyncio
from typing import Any

from sandbox.actions.common import (
    ControlError,
    bot_of,
    chat_of,
    message_view,
    topic_view,
    user_of,
)
from sandbox.membership import (
    member_json,
)
from sandbox.state import (
    GENERAL_TOPIC_ID,
    Chat,
    Member,
    StoredMessage,
    World,
)


async def messages(
    world: World,
    *,
    chat_id: int,
    message_thread_id: int | None = None,
    bot_token: str | None = None,
) -> list[dict[str, Any]]:
    """Return what the chat (or topic) shows now, oldest first."""
    chat = chat_of(world, chat_id, bot_token)
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
    chat = chat_of(world, chat_id, bot_token)
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
    target = chat_of(world, chat_id, bot_token)
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
    info["topics"] = [topic_view(target, t) for t in target.topics.values()]
    info["invite_links"] = [link.to_json(world) for link in target.invite_links.values()]
    info["join_requests"] = [
        {"user": world.users[r.user_id].to_json(), "date": r.date, "invite_link": r.invite_link}
        for r in target.join_requests.values()
    ]
    return info


async def topics(world: World, *, chat_id: int) -> list[dict[str, Any]]:
    """Return the forum topics of a supergroup."""
    target = chat_of(world, chat_id)
    return [topic_view(target, t) for t in target.topics.values()]


async def member(world: World, *, chat_id: int, user_id: int) -> dict[str, Any]:
    """Return a user's ChatMember object in a group."""
    target = chat_of(world, chat_id)
    user_of(world, user_id)
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
    user = user_of(world, user_id)
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
                "topics": [topic_view(group, t) for t in group.topics.values()],
                "last_message": message_view(last[0]) if last else None,
            }
        )
    return result


async def updates(world: World, *, bot_token: str | None = None) -> list[dict[str, Any]]:
    """Return the bot's pending (unconfirmed) updates without consuming them."""
    return bot_of(world, bot_token).updates.peek(100)


async def pending_updates(world: World, *, bot_token: str | None = None) -> int:
    """Return how many updates the bot has not confirmed (getUpdates) or received (webhook)."""
    return len(bot_of(world, bot_token).updates.pending)


async def chat_actions(world: World, *, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Return recent sendChatAction calls (optionally of one chat)."""
    return [a for a in world.chat_actions if chat_id is None or a["chat_id"] == int(chat_id)]
