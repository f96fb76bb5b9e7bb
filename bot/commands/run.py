"""``jikimi run``: the bot against real Telegram or any Bot API server."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot import event_loop
from bot.heap import tune_garbage_collector
from bot.logging import configure_logging
from bot.runtime import build_runtime
from bot.settings import Settings
from storage import migrate

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Register ``jikimi run``."""
    parser = subparsers.add_parser(
        "run", help="run the bot (long polling, or a webhook with --webhook)"
    )
    parser.add_argument("--api-base", help="Bot API base URL (default: api.telegram.org)")
    parser.add_argument("--token", help="bot token (default: JIKIMI_TELEGRAM__TOKEN)")
    parser.add_argument("--webhook", metavar="URL", help="serve a webhook at this public URL")
    parser.add_argument(
        "--migrate", action="store_true", help="upgrade the database before starting"
    )
    parser.set_defaults(handler=_run)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Apply command-line overrides to the settings from the environment."""
    settings = Settings()
    if args.api_base:
        settings.telegram.api_base = args.api_base
    if args.token:
        settings.telegram.token = SecretStr(args.token)
    if getattr(args, "webhook", None):
        settings.telegram.webhook_url = args.webhook
    return settings


def bot_settings(args: argparse.Namespace) -> Settings | None:
    """The settings with the command line applied and logging set up; None without a token."""
    settings = settings_from_args(args)
    configure_logging(json_format=settings.log_json)
    if not settings.telegram.token.get_secret_value():
        print("no bot token: set JIKIMI_TELEGRAM__TOKEN or pass --token", file=sys.stderr)
        return None
    return settings


TELEGRAM_API_HOST = "api.telegram.org"
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


def webhook_url_problem(url: str, *, api_base: str) -> str | None:
    """Why Telegram would refuse ``url`` as the webhook, or None when it is fine.

    Telegram calls only HTTPS, on ports 443, 80, 88 or 8443. A local Bot API server (or the
    sandbox) also calls plain HTTP on any port, so other API bases only need a full URL.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return f"the webhook URL {url!r} has an invalid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the webhook URL {url!r} is not a full URL: give https://HOST/PATH"
    if urlsplit(api_base).hostname != TELEGRAM_API_HOST:
        return None
    if parts.scheme != "https":
        return f"the webhook URL {url!r} is not https: Telegram calls only https:// URLs"
    if port is not None and port not in TELEGRAM_WEBHOOK_PORTS:
        return f"the webhook URL {url!r} has port {port}: Telegram calls only 443, 80, 88 or 8443"
    return None


def worker_settings_problem(settings: Settings) -> str | None:
    """What a worker lacks to serve the situation room, or None when it has it all."""
    if settings.staff_chat_id is None:
        return (
            "no staff supergroup: set JIKIMI_STAFF_CHAT_ID to the situation room's forum "
            "supergroup (reports would reach no one)"
        )
    url = settings.telegram.webhook_url
    if url:
        return webhook_url_problem(url, api_base=settings.telegram.api_base)
    return None


def _run(args: argparse.Namespace) -> int:
    settings = bot_settings(args)
    if settings is None:
        return 2
    if (problem := worker_settings_problem(settings)) is not None:
        print(problem, file=sys.stderr)
        return 2
    event_loop.run(_serve(settings, migrate_first=args.migrate), loop=settings.event_loop)
    return 0


async def _serve(settings: Settings, *, migrate_first: bool) -> None:
    if migrate_first:
        await migrate.upgrade(settings.database_url)
    await migrate.require_head(settings.database_url)
    runtime = await build_runtime(settings)
    tune_garbage_collector()
    log.info("worker running on the %s event loop", event_loop.running_loop_name())
    try:
        if settings.telegram.webhook_url:
            from bot.webhook import serve_webhook

            await serve_webhook(runtime)
        else:
            await runtime.run_polling()
    finally:
        await runtime.close()
