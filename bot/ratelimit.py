"""Token buckets for Telegram's sending limits: overall, per private chat, per group.

Usage::

    limiter = RateLimiter.from_settings(settings.sender)
    waited = await limiter.acquire(chat_id, chat_kind_of(chat_id))   # sleeps if needed
    limiter.hold(chat_id, retry_after)    # after a 429 for that chat
    limiter.hold_all(retry_after)         # after a 429 that applies to the whole bot

A send is allowed when every bucket involved holds at least one token; it then takes ``cost``
tokens (an album costs one per item), so buckets may go into debt and later sends wait for the
refill. The clock and the sleep function are injectable for tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.settings import SenderSettings

ChatKind = Literal["private", "group"]
MAX_IDLE_BUCKETS = 10_000
EPSILON = 1e-6  # seconds; float rounding must not turn into endless tiny sleeps


def chat_kind_of(chat_id: int) -> ChatKind:
    """Telegram gives users positive ids and groups, supergroups and channels negative ones."""
    return "private" if chat_id > 0 else "group"


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` tokens per second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last look."""
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float, cost: float = 1) -> None:
        """Take ``cost`` tokens (the balance may go negative)."""
        self.refill(now)
        self.tokens -= cost

    def is_full(self, now: float) -> bool:
        """Whether the bucket is back at capacity (idle)."""
        self.refill(now)
        return self.tokens >= self.capacity


class RateLimiter:
    """Telegram's limits for one bot, with holds for 429 answers."""

    def __init__(
        self,
        *,
        global_per_second: float = 30.0,
        global_burst: int = 5,
        private_per_second: float = 1.0,
        private_burst: int = 3,
        group_per_minute: float = 20.0,
        group_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._private = (float(private_burst), private_per_second)
        self._group = (float(group_burst), group_per_minute / 60.0)
        now = clock()
        # A small global burst: a full second's worth released at once meets Telegram's own
        # bucket with no slack, and network jitter then turns it into 429s.
        burst = float(max(1, global_burst))
        self._global = TokenBucket(burst, global_per_second, burst, now)
        self._chats: dict[int, TokenBucket] = {}
        self._held_until: dict[int, float] = {}
        self._all_held_until = now

    @classmethod
    def from_settings(
        cls,
        settings: SenderSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> RateLimiter:
        """Build a limiter from the ``sender`` settings section."""
        return cls(
            global_per_second=settings.global_per_second,
            global_burst=settings.global_burst,
            private_per_second=settings.private_per_second,
            private_burst=settings.private_burst,
            group_per_minute=settings.group_per_minute,
            group_burst=settings.group_burst,
            clock=clock,
            sleep=sleep,
        )

    def _bucket(self, chat_id: int, kind: ChatKind, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) >= MAX_IDLE_BUCKETS:
                self._forget_idle(now)
            capacity, rate = self._private if kind == "private" else self._group
            bucket = TokenBucket(capacity, rate, capacity, now)
            self._chats[chat_id] = bucket
        return bucket

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, b in self._chats.items() if b.is_full(now)]:
            del self._chats[chat_id]
        for chat_id in [c for c, until in self._held_until.items() if until <= now]:
            del self._held_until[chat_id]

    def delay(self, chat_id: int, kind: ChatKind) -> float:
        """Seconds to wait before a send to this chat is allowed (takes nothing)."""
        now = self._clock()
        wait = max(
            self._all_held_until - now,
            self._held_until.get(chat_id, now) - now,
            self._global.wait_time(now),
            self._bucket(chat_id, kind, now).wait_time(now),
            0.0,
        )
        return wait if wait > EPSILON else 0.0

    def take(self, chat_id: int, kind: ChatKind, cost: int = 1) -> None:
        """Record a send of ``cost`` messages to this chat."""
        now = self._clock()
        self._global.take(now, cost)
        self._bucket(chat_id, kind, now).take(now, cost)

    async def acquire(self, chat_id: int, kind: ChatKind, cost: int = 1) -> float:
        """Wait until a send to this chat is allowed, take its tokens, return the seconds waited."""
        waited = 0.0
        while (wait := self.delay(chat_id, kind)) > 0:
            await self._sleep(wait)
            waited += wait
        self.take(chat_id, kind, cost)
        return waited

    def hold(self, chat_id: int, seconds: float) -> None:
        """Send nothing to this chat for ``seconds`` (Telegram answered 429)."""
        until = self._clock() + seconds
        self._held_until[chat_id] = max(self._held_until.get(chat_id, until), until)

    def hold_all(self, seconds: float) -> None:
        """Send nothing at all for ``seconds`` (a 429 that applies to the whole bot)."""
        self._all_held_until = max(self._all_held_until, self._clock() + seconds)

    def held_until(self, chat_id: int) -> float:
        """Monotonic time until which this chat is held (by itself or by a global hold)."""
        return max(self._all_held_until, self._held_until.get(chat_id, 0.0))
