"""A wake-up call for a background task: set from any thread, awaited on the task's loop."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    """Wakes a task waiting on its event loop; ``set()`` may be called from any thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def set(self) -> None:
        """Wake the waiter (thread-safe)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._event.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            loop.call_soon_threadsafe(self._event.set)

    def is_set(self) -> bool:
        """Whether a wake-up is pending."""
        return self._event.is_set()

    async def wait(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until set or ``timeout`` seconds pass; return whether it was set, and clear it."""
        self._loop = asyncio.get_running_loop()
        try:
            if timeout is None:
                await self._event.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), timeout)
            return self._event.is_set()
        finally:
            self._event.clear()
