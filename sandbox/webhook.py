"""Webhook delivery: POST updates to the bot's URL with the secret header, retrying on failure.

Up to ``max_connections`` updates are in flight at once, but the updates of one chat go out one
at a time and in order, so a bot sees each conversation as it happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sandbox.state import Bot, World

log = logging.getLogger(__name__)

# Runs a Bot API method the webhook answer carries: (bot, method_name, params) -> None.
InlineMethodRunner = Callable[[Bot, str, dict[str, Any]], Awaitable[None]]


def update_key(update: dict[str, Any]) -> int | str:
    """Return the conversation an update belongs to (its chat, else its sender)."""
    for value in update.values():
        if not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = value.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return f"update:{update.get('update_id')}"


class _Delivery:
    """The delivery state of one bot: what is in flight and what waits for a retry."""

    def __init__(self, deliverer: WebhookDeliverer, bot: Bot):
        self.deliverer = deliverer
        self.bot = bot
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.busy_keys: set[int | str] = set()
        self.retry_at: dict[int, float] = {}
        self.attempts: dict[int, int] = {}
        self.finished = asyncio.Event()

    def ready(self, now: float) -> list[dict[str, Any]]:
        """Pending updates that may be sent now (first of their chat, not backing off)."""
        hook = self.bot.webhook
        if hook is None:
            return []
        room = hook.max_connections - len(self.in_flight)
        seen: set[int | str] = set()
        chosen = []
        for update in self.bot.updates.pending:
            key = update_key(update)
            if key in seen:
                continue
            seen.add(key)
            update_id = update["update_id"]
            if key in self.busy_keys or update_id in self.in_flight:
                continue
            if self.retry_at.get(update_id, 0.0) > now:
                continue
            chosen.append(update)
            if len(chosen) >= room:
                break
        return chosen

    async def run(self) -> None:
        """Deliver until the webhook is removed."""
        loop = asyncio.get_running_loop()
        try:
            while self.bot.webhook is not None:
                self.bot.updates.added.clear()
                self.finished.clear()
                for update in self.ready(loop.time()):
                    self.start(update)
                waits = [t - loop.time() for t in self.retry_at.values() if t > loop.time()]
                timeout = min(waits) if waits else None
                added = asyncio.ensure_future(self.bot.updates.added.wait())
                finished = asyncio.ensure_future(self.finished.wait())
                try:
                    await asyncio.wait(
                        {added, finished}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    added.cancel()
                    finished.cancel()
        finally:
            for task in list(self.in_flight.values()):
                task.cancel()
            for task in list(self.in_flight.values()):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def start(self, update: dict[str, Any]) -> None:
        """Send one update in its own task."""
        update_id = update["update_id"]
        key = update_key(update)
        self.busy_keys.add(key)

        async def deliver() -> None:
            """Deliver the update, then free its chat for the next one."""
            try:
                await self.deliver(update)
            finally:
                self.in_flight.pop(update_id, None)
                self.busy_keys.discard(key)
                self.finished.set()

        self.in_flight[update_id] = asyncio.create_task(deliver())

    async def deliver(self, update: dict[str, Any]) -> None:
        """POST one update; forget it on success, schedule a retry on failure."""
        update_id = update["update_id"]
        error = await self.deliverer.post(self.bot, update)
        world = self.deliverer.world_getter()
        if error is None:
            self.bot.updates.remove(update_id)
            self.retry_at.pop(update_id, None)
            self.attempts.pop(update_id, None)
            await world.notify(
                {"type": "webhook", "bot_id": self.bot.user.id, "update_id": update_id}
            )
            return
        hook = self.bot.webhook
        if hook is not None:
            hook.last_error_date = world.now()
            hook.last_error_message = error
        attempt = self.attempts.get(update_id, 0)
        delays = world.config.webhook_retry_delays
        self.attempts[update_id] = attempt + 1
        delay = delays[min(attempt, len(delays) - 1)]
        self.retry_at[update_id] = asyncio.get_running_loop().time() + delay


class WebhookDeliverer:
    """One delivery loop per bot with a webhook."""

    def __init__(
        self,
        world_getter: Callable[[], World],
        http: aiohttp.ClientSession,
        run_method: InlineMethodRunner,
    ):
        self.world_getter = world_getter
        self.http = http
        self.run_method = run_method
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, bot: Bot) -> None:
        """Start (or keep) delivering the bot's updates to its webhook."""
        task = self.tasks.get(bot.user.id)
        if task is not None and not task.done():
            return
        self.tasks[bot.user.id] = asyncio.create_task(_Delivery(self, bot).run())

    async def stop(self, bot: Bot) -> None:
        """Stop delivering for one bot."""
        task = self.tasks.pop(bot.user.id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_all(self) -> None:
        """Stop every delivery loop."""
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def post(self, bot: Bot, update: dict[str, Any]) -> str | None:
        """POST one update; return None on success or the error text."""
        hook = bot.webhook
        if hook is None:
            return "Webhook was deleted"
        world = self.world_getter()
        if world.faults.take(("drop_webhook",)) is not None:
            return "Connection reset by peer"
        headers = {}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            timeout = aiohttp.ClientTimeout(total=world.config.webhook_timeout)
            async with self.http.post(
                hook.url, json=update, headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                answer: Any = None
                if response.content_type == "application/json":
                    with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                        answer = await response.json()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"
        if isinstance(answer, dict) and isinstance(answer.get("method"), str):
            params = {k: v for k, v in answer.items() if k != "method"}
            try:
                await self.run_method(bot, answer["method"], params)
            except Exception:  # Telegram ignores errors of methods in webhook answers.
                log.debug("method in webhook answer failed", exc_info=True)
        return None
