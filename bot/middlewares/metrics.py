"""Count every update by type and time its handling (the transaction included)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.malformed import MalformedUpdate
from bot.metrics import Metrics

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MetricsMiddleware(BaseMiddleware):
    """Outer update middleware feeding ``Metrics`` found in the dispatcher data as ``metrics``.

    Without a ``metrics`` entry (polling without an HTTP server) it only passes the update on.
    An update delivered again after it was handled (``repeated_update``, set by the database
    middleware) counts as repeated, not as handled.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Time the rest of the chain and record the outcome."""
        metrics = data.get("metrics")
        if not isinstance(metrics, Metrics):
            return await handler(event, data)
        update_type = _update_type(event)
        started = time.perf_counter()
        failed = True
        try:
            result = await handler(event, data)
            failed = False
            return result
        finally:
            if data.get("repeated_update"):
                metrics.observe_repeat(update_type)
            else:
                metrics.observe_update(update_type, time.perf_counter() - started, failed=failed)


def _update_type(event: TelegramObject) -> str:
    if isinstance(event, MalformedUpdate):
        return "malformed"
    if isinstance(event, Update):
        try:
            return event.event_type
        except Exception:  # aiogram raises for update types it does not know
            return "unknown"
    return type(event).__name__
