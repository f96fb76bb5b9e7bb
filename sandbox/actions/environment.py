"""The sandbox around the people: its clock, its rate limits, and updates injected as given."""

from __future__ import annotations

from typing import Any

from sandbox.actions.common import ControlError, bot_of
from sandbox.messaging import deliver
from sandbox.state import (
    World,
)


async def advance_time(world: World, *, seconds: float) -> int:
    """Move the sandbox clock forward (e.g. past the 48-hour delete window)."""
    world.clock_offset += float(seconds)
    await world.notify({"type": "clock"})
    return world.now()


async def set_rate_limits(world: World, *, enabled: bool) -> bool:
    """Switch rate limiting on or off."""
    world.config.rate_limits = bool(enabled)
    world.ratelimiter.reset()
    return world.config.rate_limits


async def rate_limited(world: World, *, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Return the 429s the rate limits answered (optionally to one chat), oldest first."""
    return [
        dict(refusal)
        for refusal in world.ratelimiter.refused
        if chat_id is None or refusal["chat_id"] == chat_id
    ]


async def inject_update(
    world: World, *, update_type: str, payload: Any, bot_token: str | None = None
) -> dict[str, Any] | None:
    """Queue an update exactly as given (only numbered), whatever its shape: a new Bot API field,
    one left out, a type the bot does not know. Returns the Update, or None when the bot's
    ``allowed_updates`` filters ``update_type`` out.

    Nothing is checked or stored in a chat. A private message from a known user counts as that
    user writing to the bot, so the bot may answer them (as with every message they send).
    """
    if not isinstance(update_type, str) or not update_type or update_type == "update_id":
        raise ControlError(400, "update_type must name an update field, e.g. 'message'")
    bot = bot_of(world, bot_token)
    chat = payload.get("chat") if isinstance(payload, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private" and chat.get("id") in world.users:
        bot.started_by.add(chat["id"])
    return await deliver(world, bot, update_type, payload)
