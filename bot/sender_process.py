"""The outbox sender as a process of its own (``jikimi send``), for every worker at once.

Each sender keeps Telegram's limits on its own, so two workers that both send could together
go past the bot's 30 messages a second. With several workers, run them with
``JIKIMI_SENDER__IN_WORKER=false`` and one ``jikimi send``: one limiter for the whole bot, and
the workers' CPU goes to updates. On PostgreSQL the workers' commits wake it at once (NOTIFY);
on SQLite it looks every few seconds.

Usage::

    await serve_sender(settings, port=9101)   # until SIGTERM/SIGINT; probes and metrics on 9101
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.api_calls import rate_limit_tally
from bot.event_loop import running_loop_name
from bot.health import SENDER_TASK_NAME, add_health_routes, database_check, task_check
from bot.metrics import add_metrics_route, create_metrics
from bot.runtime import build_outbound, default_worker_id, stop_on_signals, stop_sender
from bot.settings import Settings
from storage import migrate

log = logging.getLogger(__name__)


async def serve_sender(
    settings: Settings,
    *,
    port: int | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Deliver the outbox until a signal arrives or ``stop`` is set.

    With ``port``, ``/healthz``, ``/readyz`` (database, sender) and ``/metrics`` (sends by
    result, 429s, outbox depth) are served on ``settings.telegram.webhook_host:port``.
    """
    await migrate.require_head(settings.database_url)
    outbound = build_outbound(settings, worker_id=default_worker_id())
    session_factory, sender = outbound.session_factory, outbound.sender
    stop = stop or asyncio.Event()
    runner: web.AppRunner | None = None
    try:
        if port is not None:
            app = web.Application()
            add_health_routes(
                app,
                checks={
                    "database": database_check(session_factory),
                    "sender": task_check(SENDER_TASK_NAME),
                },
            )
            metrics = create_metrics()
            metrics.watch_sender(sender)
            metrics.watch_rate_limits(rate_limit_tally(outbound.bot))
            add_metrics_route(app, metrics=metrics, session_factory=session_factory)
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, settings.telegram.webhook_host, port).start()
        await sender.start()
        log.info(
            "outbox sender %s running on its own, on the %s event loop",
            sender.worker_id,
            running_loop_name(),
        )
        with stop_on_signals(stop, enabled=handle_signals):
            await stop.wait()
    finally:
        await stop_sender(sender)
        if runner is not None:
            await runner.cleanup()
        await outbound.bot.session.close()
        await outbound.engine.dispose()
