"""Token buckets for Telegram's sending limits: overall, per private chat, per group.

Usage::

    limiter = RateLimiter.from_settings(settings.sender)
    kind = chat_kind_of(chat_id)
    waited = await limiter.acquire(chat_id, kind)   # sleeps if needed, takes the tokens
    ...                                             # the Bot API call
    limiter.settle(chat_id, kind)          # once it answered, whatever it answered
    limiter.hold(chat_id, retry_after)     # after a 429 for that chat
    limiter.hold_all(retry_after)          # after a 429 that applies to the whole bot

A send is allowed when every bucket involved holds at least one token; it then takes ``cost``
tokens (an album costs one per item), so buckets may go into debt and later sends wait for the
refill. Sends whose chat allows them queue for the overall limit by ``rank`` (the sender passes
the row's priority and id), so an action manual is not sent after bulk that happened to start
waiting first. The clock and the sleep function are injectable for tests.

Telegram counts a message when its request arrives, somewhere between our ``acquire`` and the
answer. Our bucket and Telegram's have the same size, so a first send that took longer on its
way than a later one would let that later one reach Telegram's bucket a little too early: a
429 in the middle of a citizen's burst of replies. ``settle`` therefore counts a chat's send as
taken when its answer came back (the latest time Telegram can have counted it); a chat's next
send is only started after that, so the chat's bucket can never run ahead of Telegram's.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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


class RateLimitTimeout(Exception):
    """A send did not get its tokens within the time it was given (it took none)."""


@dataclass(order=True)
class _Waiter:
    """A send waiting for the overall limit: lower ``rank`` first, then first come."""

    rank: tuple[int, int]
    seq: int
    turn: asyncio.Event = field(default_factory=asyncio.Event, compare=False)
    queued: bool = field(default=False, compare=False)


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
        self._queue: list[_Waiter] = []  # a heap: its head alone may take an overall token
        self._arrivals = itertools.count()

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

    def _chat_delay(self, chat_id: int, kind: ChatKind, now: float) -> float:
        held = self._held_until.get(chat_id, now) - now
        return max(held, self._bucket(chat_id, kind, now).wait_time(now), 0.0)

    def _overall_delay(self, now: float) -> float:
        return max(self._all_held_until - now, self._global.wait_time(now), 0.0)

    def delay(self, chat_id: int, kind: ChatKind) -> float:
        """Seconds to wait before a send to this chat is allowed (takes nothing)."""
        now = self._clock()
        wait = max(self._chat_delay(chat_id, kind, now), self._overall_delay(now))
        return wait if wait > EPSILON else 0.0

    def take(self, chat_id: int, kind: ChatKind, cost: int = 1) -> None:
        """Record a send of ``cost`` messages to this chat."""
        now = self._clock()
        self._global.take(now, cost)
        self._bucket(chat_id, kind, now).take(now, cost)

    def settle(self, chat_id: int, kind: ChatKind, cost: int = 1) -> None:
        """Count a finished send of ``cost`` messages as taken now, when Telegram has seen it.

        The tokens were taken by :meth:`acquire` when the call started; while the bucket was
        full, the refill since then is taken back (the bucket may not be fuller than it would
        be had the send been counted now). A bucket in debt is left as it is: the balance is
        the same whenever the send is counted.
        """
        now = self._clock()
        bucket = self._bucket(chat_id, kind, now)
        bucket.refill(now)
        bucket.tokens = min(bucket.tokens, bucket.capacity - cost)

    async def acquire(
        self,
        chat_id: int,
        kind: ChatKind,
        cost: int = 1,
        *,
        rank: tuple[int, int] = (0, 0),
        within: float | None = None,
    ) -> float:
        """Wait until a send to this chat is allowed, take its tokens, return the seconds waited.

        A send first waits for its own chat (its bucket, a hold), then for the overall limit
        behind every waiting send of a lower ``rank``. With ``within``, a send that would wait
        longer raises :class:`RateLimitTimeout` instead: more urgent sends may keep coming.
        """
        start = self._clock()
        deadline = None if within is None else start + within
        waiter = _Waiter(rank, next(self._arrivals))
        try:
            while True:
                now = self._clock()
                chat_wait = self._chat_delay(chat_id, kind, now)
                if chat_wait > EPSILON:  # its own chat holds it: let others pass meanwhile
                    self._leave(waiter)
                    await self._sleep(_bounded(chat_wait, now, deadline))
                    continue
                self._join(waiter)
                if self._queue[0] is not waiter:
                    waiter.turn.clear()
                    await _wait_turn(waiter.turn, now, deadline)
                    continue
                overall_wait = self._overall_delay(now)
                if overall_wait > EPSILON:
                    await self._sleep(_bounded(overall_wait, now, deadline))
                    continue
                self.take(chat_id, kind, cost)
                return self._clock() - start
        finally:
            self._leave(waiter)

    def _join(self, waiter: _Waiter) -> None:
        if not waiter.queued:
            waiter.queued = True
            heapq.heappush(self._queue, waiter)

    def _leave(self, waiter: _Waiter) -> None:
        """Take ``waiter`` out of the queue and give the turn to the new head."""
        if not waiter.queued:
            return
        waiter.queued = False
        self._queue.remove(waiter)
        heapq.heapify(self._queue)
        if self._queue:
            self._queue[0].turn.set()

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


def _bounded(wait: float, now: float, deadline: float | None) -> float:
    """``wait``, unless it would end after ``deadline``."""
    if deadline is not None and now + wait > deadline + EPSILON:
        raise RateLimitTimeout(f"would wait {now + wait - deadline:.2f}s past the deadline")
    return wait


async def _wait_turn(turn: asyncio.Event, now: float, deadline: float | None) -> None:
    """Wait for ``turn``, at most until ``deadline``."""
    if deadline is None:
        await turn.wait()
        return
    try:
        await asyncio.wait_for(turn.wait(), max(0.0, deadline - now))
    except TimeoutError:
        raise RateLimitTimeout("more urgent sends held the overall limit") from None
