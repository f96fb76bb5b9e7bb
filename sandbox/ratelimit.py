"""Telegram's sending limits as token buckets: overall, per private chat, per group.

A message counts when its request arrives; an album counts one per item. The latest 429s
the limits answered are kept in ``refused`` (the ``rate_limited`` control action reads it).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from sandbox.config import SandboxConfig
from sandbox.errors import too_many_requests

MAX_REFUSALS_KEPT = 1000  # the latest 429s answered; a storm must not grow memory without end


@dataclass
class Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last look."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        """Return seconds until one token is available (0 if one is)."""
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """Answers 429 with retry_after when a bot sends faster than Telegram allows."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.buckets: dict[tuple[int, ...], Bucket] = {}
        self.refused: deque[dict[str, float]] = deque(maxlen=MAX_REFUSALS_KEPT)

    @property
    def enabled(self) -> bool:
        """Tell whether limits are enforced."""
        return self.config.rate_limits

    def _bucket(self, key: tuple[int, ...], capacity: float, rate: float, now: float) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(capacity=capacity, rate=rate, tokens=capacity, stamp=now)
            self.buckets[key] = bucket
        bucket.refill(now)
        return bucket

    def check(self, bot_id: int, chat_id: int, is_private: bool, cost: int = 1) -> None:
        """Consume ``cost`` sends for this bot and chat or raise 429 with retry_after."""
        if not self.enabled:
            return
        cfg = self.config
        now = time.monotonic()
        overall = self._bucket((bot_id,), cfg.global_per_second, cfg.global_per_second, now)
        if is_private:
            per_chat = self._bucket(
                (bot_id, chat_id), cfg.private_burst, cfg.private_per_second, now
            )
        else:
            per_chat = self._bucket(
                (bot_id, chat_id), cfg.group_per_minute, cfg.group_per_minute / 60.0, now
            )
        wait = max(overall.wait_time(), per_chat.wait_time())
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.refused.append({"chat_id": chat_id, "retry_after": retry_after, "cost": cost})
            raise too_many_requests(retry_after)
        overall.tokens -= cost
        per_chat.tokens -= cost

    def reset(self) -> None:
        """Refill every bucket (the record of past 429s stays)."""
        self.buckets.clear()
