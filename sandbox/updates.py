"""A bot's update queue: update ids, long polling, confirmation by offset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

ALL_UPDATE_TYPES = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
]
# Telegram's default when allowed_updates was never set or set to []: everything except these.
OPT_IN_UPDATE_TYPES = {"chat_member", "message_reaction", "message_reaction_count"}


class UpdateQueue:
    """Pending updates of one bot, consumed by getUpdates or the webhook deliverer."""

    def __init__(self, first_update_id: int = 1):
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = first_update_id
        self.allowed_updates: list[str] | None = None
        self.added = asyncio.Event()
        self._changed = asyncio.Condition()

    def wants(self, update_type: str) -> bool:
        """Tell whether the bot's current allowed_updates lets this update type through."""
        if not self.allowed_updates:
            return update_type not in OPT_IN_UPDATE_TYPES
        return update_type in self.allowed_updates

    async def put(self, update_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update of ``update_type`` if allowed; return the Update JSON or None."""
        if not self.wants(update_type):
            return None
        update = {"update_id": self.next_update_id, update_type: payload}
        self.next_update_id += 1
        async with self._changed:
            self.pending.append(update)
            self._changed.notify_all()
        self.added.set()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset`` (negative: keep only the last ``-offset``)."""
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def remove(self, update_id: int) -> None:
        """Forget one update (the webhook delivered it)."""
        self.pending = [u for u in self.pending if u["update_id"] != update_id]

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """Return up to ``limit`` pending updates without confirming them."""
        return list(self.pending[:limit])

    async def get(
        self,
        offset: int,
        limit: int,
        timeout: float,  # noqa: ASYNC109
        alive: Callable[[], bool] = lambda: True,
    ) -> list[dict[str, Any]]:
        """Confirm by ``offset`` and return up to ``limit`` updates, waiting up to ``timeout``.

        The wait ends early when ``alive()`` turns false (another poll or a webhook took over).
        """
        self.confirm(offset)
        if not self.pending and timeout > 0:
            async with self._changed:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self.pending) or not alive()),
                        timeout,
                    )
                except TimeoutError:
                    return []
        return self.peek(limit)

    async def wait_nonempty(self) -> None:
        """Block until at least one update is pending."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self.pending))

    async def wake(self) -> None:
        """Wake every waiter (used when a webhook is set or deleted)."""
        async with self._changed:
            self._changed.notify_all()

    def drop_all(self) -> None:
        """Drop every pending update (drop_pending_updates)."""
        self.pending.clear()
