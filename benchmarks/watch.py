"""Timestamps of bot messages as they land in citizens' chats, taken inside the sandbox process.

The benchmark runs the sandbox in its own process, so it can observe the exact moment a bot's
message is stored in a private chat (what the citizen's phone would show), without polling.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.server import SandboxServer

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Arrival:
    """One bot message in a private chat and when it arrived (``time.perf_counter``)."""

    at: float
    data: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text or caption."""
        return str(self.data.get("text") or self.data.get("caption") or "")


class ChatWatcher:
    """Records every message a bot posts in a private chat of the sandbox."""

    def __init__(self, server: SandboxServer, bot_id: int):
        self.world = server.world
        self.bot_id = bot_id
        self.arrivals: dict[int, list[Arrival]] = defaultdict(list)
        self._changed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        original = self.world.notify

        async def notify(event: dict[str, Any] | None = None) -> None:
            if event is not None and event.get("type") == "message":
                self._record(int(event["chat_id"]), int(event["message_id"]))
            await original(event)

        self.world.notify = notify  # type: ignore[method-assign]

    def _record(self, chat_id: int, message_id: int) -> None:
        if chat_id <= 0:
            return
        chat = self.world.private_chats.get((self.bot_id, chat_id))
        if chat is None:
            return
        message = chat.messages.get(message_id)
        if message is None or message.sender_id != self.bot_id:
            return
        self.arrivals[chat_id].append(Arrival(time.perf_counter(), message.snapshot()))
        self._changed[chat_id].set()

    def matching(self, chat_id: int, predicate: Predicate, *, since: float = 0.0) -> list[Arrival]:
        """Bot messages in this chat since ``since`` that satisfy ``predicate``."""
        return [a for a in self.arrivals[chat_id] if a.at >= since and predicate(a.data)]

    async def wait_for(
        self, chat_id: int, predicate: Predicate, *, since: float, within: float
    ) -> Arrival | None:
        """The first matching message since ``since``, waiting up to ``within`` seconds."""
        deadline = time.perf_counter() + within
        event = self._changed[chat_id]
        while True:
            event.clear()
            found = self.matching(chat_id, predicate, since=since)
            if found:
                return found[0]
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue
