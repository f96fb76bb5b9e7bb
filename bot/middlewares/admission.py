"""Which waiting update a worker handles next: a citizen's words before their locations and media.

A worker handles ``limit`` updates at once (``max_concurrent_updates``); in a surge the rest
wait. Waiting in arrival order, a citizen's first words, the message that brings them the
action manual, queued behind every other citizen's location and photos. Here an update that
only adds to a report (a private message without text or caption: a location, a live-location
edit, a photo, a voice note) waits as if it had arrived ``follow_up_delay`` seconds later: the
words go first, and a follow-up is never held more than that beyond its turn. Staff, expert and
group updates count as words.

The middleware runs after aiogram's chat lock, so a chat's own updates keep their order: a
follow-up waiting here holds its chat, and that chat's next message waits behind it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def is_follow_up(update: Update) -> bool:
    """Whether the update is a private message that carries no words (location, media...)."""
    message: Message | None = update.message or update.edited_message
    if message is None or message.chat.type != "private":
        return False
    return not (message.text or message.caption)


class AdmissionMiddleware(BaseMiddleware):
    """Let at most ``limit`` updates run at once; admit waiting ones words first."""

    def __init__(
        self,
        limit: int,
        *,
        follow_up_delay: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._follow_up_delay = follow_up_delay
        self._clock = clock
        self._running = 0
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def running(self) -> int:
        """Updates admitted and not finished."""
        return self._running

    @property
    def waiting(self) -> int:
        """Updates waiting for their turn."""
        return sum(1 for *_, turn in self._waiting if not turn.done())

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Wait for the update's turn, then run the rest of the chain."""
        delay = self._follow_up_delay if isinstance(event, Update) and is_follow_up(event) else 0
        await self._admit(delay)
        try:
            return await handler(event, data)
        finally:
            self._leave()

    async def _admit(self, delay: float) -> None:
        # A place that frees passes straight to a waiting update, so a free place means
        # nobody waits (entries of cancelled waiters may linger: _leave skips them).
        if self._running < self.limit:
            self._running += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (self._clock() + delay, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # admitted, then cancelled before running: pass the place on
            raise

    def _leave(self) -> None:
        while self._waiting:
            *_, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # the place passes on: _running stays
                return
        self._running -= 1
