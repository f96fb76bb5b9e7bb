"""``jikimi sandbox``: the offline demo (sandbox + bot + demo world + web console)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot import event_loop
from bot.demo import build_demo_world, seed_demo
from bot.heap import tune_garbage_collector
from bot.logging import configure_logging
from bot.runtime import build_runtime
from bot.settings import Settings
from sandbox.client import SandboxClient
from sandbox.server import SandboxConfig, SandboxServer
from storage import migrate

DEMO_DATABASE = Path("var/demo.db")
DEMO_MEDIA = Path("var/demo-media")
"""The fresh demo database's media: its own directory, never the configured one (``var/media``
by default), which may hold the media of a real database."""


def register(subparsers: Any) -> None:
    """Register ``jikimi sandbox``."""
    parser = subparsers.add_parser(
        "sandbox", help="offline demo: the Bot API sandbox, the bot and a demo world"
    )
    parser.add_argument("--host", default="127.0.0.1", help="sandbox host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="sandbox port (default 8080)")
    parser.add_argument(
        "--database-url",
        help=(
            f"database (default: a fresh SQLite file at {DEMO_DATABASE}, with its media in"
            f" a fresh {DEMO_MEDIA}; a database given here keeps JIKIMI_MEDIA_DIR)"
        ),
    )
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="switch the sandbox's rate limits off"
    )
    parser.set_defaults(handler=_sandbox)


def _sandbox(args: argparse.Namespace) -> int:
    configure_logging()
    settings = Settings()
    with contextlib.suppress(KeyboardInterrupt):
        return event_loop.run(_serve(args, settings), loop=settings.event_loop)
    return 0


def _fresh_demo_database() -> str:
    """Start the demo on an empty SQLite file: the sandbox's world is new at every start."""
    DEMO_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{DEMO_DATABASE}"


def _fresh_demo_media() -> Path:
    """Empty the demo's media directory: the files of earlier demos belong to no report now."""
    if DEMO_MEDIA.is_symlink():
        DEMO_MEDIA.unlink()
    elif DEMO_MEDIA.exists():
        shutil.rmtree(DEMO_MEDIA)
    DEMO_MEDIA.mkdir(parents=True)
    return DEMO_MEDIA


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    config = SandboxConfig(host=args.host, port=args.port, rate_limits=not args.no_rate_limits)
    server = SandboxServer(config)
    try:
        await server.start()
    except OSError as exc:
        # Before the database: a second demo must not delete the running one's file.
        where = f"{args.host}:{args.port}"
        reason = (
            f"{where} is in use: is another demo running? Stop it, or"
            if exc.errno == errno.EADDRINUSE
            else f"cannot listen on {where} ({exc.strerror or exc}):"
        )
        print(f"jikimi sandbox: {reason} pick another port with --port.", file=sys.stderr)
        return 2
    try:
        await _run_demo(args, settings, server)
    finally:
        await server.stop()
    return 0


async def _run_demo(args: argparse.Namespace, settings: Settings, server: SandboxServer) -> None:
    """Build the demo world in the running sandbox and serve the bot until interrupted."""
    database_url = args.database_url
    if database_url is None:  # a fresh demo database starts with no media either
        database_url = _fresh_demo_database()
        settings.media_dir = _fresh_demo_media()
    async with SandboxClient(server.url) as client:
        world = await build_demo_world(client)
        settings.telegram.api_base = server.url
        settings.telegram.token = SecretStr(world.token)
        settings.database_url = database_url
        settings.staff_chat_id = world.staff_chat_id
        settings.experts_hub_id = world.experts_hub_id
        await migrate.upgrade(database_url)
        runtime = await build_runtime(settings)
        await seed_demo(runtime.session_factory, world)
        tune_garbage_collector()
        print(f"\n  jikimi sandbox is running: open {server.url}/ in a browser\n", flush=True)
        try:
            await runtime.run_polling()
        finally:
            await runtime.close()
