"""The sandbox around the people: its clock and its rate limits."""

from __future__ import annotations

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
