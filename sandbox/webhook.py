"""Webhook delivery: POST each update to the bot's URL with the secret header, retrying."""

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


class WebhookDeliverer:
    """One delivery task per bot with a webhook; updates go out one at a time, in order."""

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
        self.tasks[bot.user.id] = asyncio.create_task(self._run(bot))

    async def stop(self, bot: Bot) -> None:
        """Stop delivering for one bot."""
        task = self.tasks.pop(bot.user.id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_all(self) -> None:
        """Stop every delivery task."""
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, bot: Bot) -> None:
        attempt = 0
        while bot.webhook is not None:
            await bot.updates.wait_nonempty()
            hook = bot.webhook
            if hook is None:
                return
            update = bot.updates.pending[0]
            error = await self._post(bot, update)
            world = self.world_getter()
            if error is None:
                bot.updates.confirm(update["update_id"] + 1)
                attempt = 0
                await world.notify(
                    {"type": "webhook", "bot_id": bot.user.id, "update_id": update["update_id"]}
                )
                continue
            hook.last_error_date = world.now()
            hook.last_error_message = error
            delays = world.config.webhook_retry_delays
            await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
            attempt += 1

    async def _post(self, bot: Bot, update: dict[str, Any]) -> str | None:
        """POST one update; return None on success or the error text."""
        hook = bot.webhook
        assert hook is not None
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
