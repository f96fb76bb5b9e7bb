"""Webhook mode: an aiohttp server for updates, probes and metrics; several workers may share it.

Usage::

    runtime = await build_runtime(settings)      # settings.telegram.webhook_url is set
    await serve_webhook(runtime)                 # until SIGINT/SIGTERM (or ``stop`` is set)

Routes: ``POST <path of the webhook URL>`` (updates; 401 without the right
``X-Telegram-Bot-Api-Secret-Token``), ``GET /healthz``, ``GET /readyz``, ``GET /metrics``.

An update is answered only after its transaction committed (``handle_in_background=False``):
if the worker dies first, Telegram (or the sandbox) gets no answer and delivers it again, and
the processed-update table makes the second delivery change nothing. An update the bot cannot
read is kept as a failed update and answered 200 too (``bot.malformed``); a body that is not
JSON gets 400. The secret token comes
from ``JIKIMI_TELEGRAM__WEBHOOK_SECRET`` or is derived from the bot token, so every worker of
one bot agrees on it without configuration.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.api_calls import rate_limit_tally
from bot.health import SENDER_TASK_NAME, add_health_routes, database_check, task_check
from bot.malformed import read_update
from bot.metrics import Metrics, add_metrics_route, create_metrics
from bot.runtime import Runtime, stop_on_signals
from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_CONTEXT = b"jikimi-webhook-secret-v1"


def webhook_secret(settings: Settings) -> str:
    """The secret token: the configured one, or one derived from the bot token (same everywhere)."""
    configured = settings.telegram.webhook_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    token = settings.telegram.token.get_secret_value().encode()
    return hmac.new(token, _SECRET_CONTEXT, hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    """The path part of the public webhook URL (``/`` when it has none)."""
    return urlsplit(url).path or "/"


class BoundedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, handling at most ``limit`` updates of this worker at once.

    Telegram's ``max_connections`` counts for the bot, all workers together; the bound a worker
    needs (below its database pool, see ``max_concurrent_updates``) is its own. Requests beyond
    it wait here, their connection open, until an update ends.
    """

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = asyncio.Semaphore(limit)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        async with self.slots:
            return await self._feed(bot, request)

    async def _feed(self, bot: Bot, request: web.Request) -> web.Response:
        """aiogram's own ``_handle_request``, the body read by ``read_update``.

        aiogram reads the body into an ``Update`` and answers 500 when it cannot: Telegram
        would deliver that update again and again. Read here, an unreadable update becomes a
        ``MalformedUpdate``: kept as a failed update and answered 200, like any other.
        """
        try:
            raw = await request.json(loads=bot.session.json_loads)
        except ValueError:
            log.warning("webhook: a request body that is not JSON was refused (400)")
            return web.Response(status=400, text="the body must be a JSON update")
        update = read_update(raw, bot)
        if update is None:  # not even numbered: logged by read_update
            return web.json_response({})
        result: Any = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        """Compare in constant time, as bytes: a header that is not ASCII is wrong, not an error.

        aiogram compares the header as text, and ``secrets.compare_digest`` raises for text
        that is not ASCII: such a request got 500 instead of 401.
        """
        if not self.secret_token:
            return True
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return secrets.compare_digest(given, self.secret_token.encode())


def build_webhook_app(
    runtime: Runtime, *, secret: str, path: str, metrics: Metrics
) -> web.Application:
    """The aiohttp application of one worker (dispatcher startup/shutdown tied to it)."""
    runtime.dispatcher["metrics"] = metrics
    app = web.Application()
    handler = BoundedRequestHandler(
        dispatcher=runtime.dispatcher,
        bot=runtime.bot,
        handle_in_background=False,
        secret_token=secret,
        limit=runtime.settings.telegram.max_waiting_updates,
    )
    # Not handler.register(): it closes the bot's HTTP session at shutdown, under the sends the
    # sender still has in flight; Runtime.close() closes it after the sender stopped.
    app.router.add_route("POST", path, handler.handle)
    checks = {"database": database_check(runtime.session_factory)}
    if runtime.settings.sender.in_worker:
        checks["sender"] = task_check(SENDER_TASK_NAME)
    add_health_routes(app, checks=checks)
    add_metrics_route(app, metrics=metrics, session_factory=runtime.session_factory)
    setup_application(app, runtime.dispatcher, bot=runtime.bot)
    return app


async def serve_webhook(
    runtime: Runtime, *, stop: asyncio.Event | None = None, handle_signals: bool = True
) -> None:
    """Set the webhook and serve it until a signal arrives or ``stop`` is set."""
    settings = runtime.settings
    url = settings.telegram.webhook_url
    if not url:
        raise ValueError("no webhook URL: pass --webhook URL or set JIKIMI_TELEGRAM__WEBHOOK_URL")
    secret = webhook_secret(settings)
    metrics = create_metrics()
    metrics.watch_sender(runtime.sender)
    metrics.watch_rate_limits(rate_limit_tally(runtime.bot))
    metrics.watch_admission(runtime.admission)
    app = build_webhook_app(runtime, secret=secret, path=webhook_path(url), metrics=metrics)
    stop = stop or asyncio.Event()
    with stop_on_signals(stop, enabled=handle_signals):
        await _serve_until(runtime, app, url, secret, stop)


async def _serve_until(
    runtime: Runtime, app: web.Application, url: str, secret: str, stop: asyncio.Event
) -> None:
    settings = runtime.settings
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()  # the dispatcher's startup hooks run here
    await runtime.start_services()
    try:
        site = web.TCPSite(runner, settings.telegram.webhook_host, settings.telegram.webhook_port)
        await site.start()
        await runtime.bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=runtime.dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
            max_connections=settings.telegram.webhook_max_connections,
        )
        log.info(
            "webhook served on %s:%s%s",
            settings.telegram.webhook_host,
            settings.telegram.webhook_port,
            webhook_path(url),
        )
        await stop.wait()
    finally:
        await runner.cleanup()
