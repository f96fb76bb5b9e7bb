"""People interacting: buttons, inline queries, joining, leaving, blocking the bot."""

from __future__ import annotations

import asyncio
import hashlib
import random
from typing import Any

from sandbox.actions.common import (
    ControlError,
    bot_of,
    chat_of,
    owner_of,
    user_of,
)
from sandbox.invites import resolve_request, use_link
from sandbox.markup import find_callback_button
from sandbox.membership import (
    change_member,
    member_json,
    set_private_status,
)
from sandbox.messaging import deliver
from sandbox.state import (
    Member,
    World,
)


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
    user = user_of(world, user_id)
    chat = chat_of(world, chat_id, bot_token)
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
    user = user_of(world, user_id)
    bot = bot_of(world, bot_token)
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
    user_of(world, user_id)
    return await use_link(world, int(user_id), invite_link)


async def resolve_join_request(
    world: World, *, chat_id: int, user_id: int, approve: bool = True
) -> dict[str, Any]:
    """The chat owner approves or declines a pending join request."""
    chat = chat_of(world, chat_id)
    await resolve_request(world, chat, int(user_id), owner_of(chat), bool(approve))
    member = chat.members.get(int(user_id)) or Member(user_id=int(user_id), status="left")
    return member_json(world, chat, member)


async def leave_chat(world: World, *, user_id: int, chat_id: int) -> dict[str, Any]:
    """The user leaves a group."""
    chat = chat_of(world, chat_id)
    member = chat.members.get(int(user_id))
    if member is None or not member.present:
        raise ControlError(400, "user is not a member of the chat")
    if member.status == "creator":
        raise ControlError(400, "the owner cannot leave in the sandbox")
    await change_member(world, chat, Member(user_id=int(user_id), status="left"), int(user_id))
    return member_json(world, chat, chat.members[int(user_id)])


async def block_bot(world: World, *, user_id: int, bot_token: str | None = None) -> bool:
    """The user blocks the bot: my_chat_member (kicked); the bot then gets 403 on sends."""
    bot = bot_of(world, bot_token)
    user_of(world, user_id)
    if int(user_id) not in bot.blocked_by:
        bot.blocked_by.add(int(user_id))
        await set_private_status(world, world.private_chat(bot, int(user_id)), blocked=True)
    return True


async def unblock_bot(world: World, *, user_id: int, bot_token: str | None = None) -> bool:
    """The user unblocks the bot: my_chat_member (member)."""
    bot = bot_of(world, bot_token)
    if int(user_id) in bot.blocked_by:
        bot.blocked_by.discard(int(user_id))
        await set_private_status(world, world.private_chat(bot, int(user_id)), blocked=False)
    return True
