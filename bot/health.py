"""Liveness and readiness probes: ``/healthz`` (the process answers) and ``/readyz``.

Usage::

    add_health_routes(app, checks={"database": database_check(session_factory),
                                   "sender": task_check(SENDER_TASK_NAME)})

``/readyz`` answers 200 with ``{"database": true, "sender": true}`` when every check passes,
503 with the same body otherwise; a load balancer sends updates only to ready workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
SENDER_TASK_NAME = "outbox-sender"


async def database_ready(session_factory: async_sessionmaker[Any], *, within: float = 2.0) -> bool:
    """Whether the database answers ``SELECT 1`` within ``within`` seconds."""
    try:
        async with asyncio.timeout(within), session_factory() as session:
            connection = await session.connection()
            await connection.execute(text("SELECT 1"))
        return True
    except Exception as error:  # any failure means not ready
        log.warning("readiness: database unavailable: %s", type(error).__name__)
        return False


def database_check(session_factory: async_sessionmaker[Any], *, within: float = 2.0) -> Check:
    """A readiness check that runs ``SELECT 1``."""

    async def check() -> bool:
        return await database_ready(session_factory, within=within)

    return check


def task_running(name: str) -> bool:
    """Whether an asyncio task named ``name`` (or ``name:<suffix>``) is alive on this loop."""
    return any(
        not task.done() and (task.get_name() == name or task.get_name().startswith(f"{name}:"))
        for task in asyncio.all_tasks()
    )


def task_check(name: str) -> Check:
    """A readiness check that a background task (the sender by default) is alive."""

    async def check() -> bool:
        return task_running(name)

    return check


async def run_checks(checks: Mapping[str, Check]) -> dict[str, bool]:
    """Run every check concurrently and return their results by name."""
    results = await asyncio.gather(*(check() for check in checks.values()))
    return dict(zip(checks.keys(), results, strict=True))


def add_health_routes(app: web.Application, *, checks: Mapping[str, Check]) -> None:
    """Serve ``GET /healthz`` and ``GET /readyz`` on ``app``."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_request: web.Request) -> web.Response:
        results = await run_checks(checks)
        status = 200 if all(results.values()) else 503
        return web.json_response(results, status=status)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
