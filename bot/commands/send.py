"""``jikimi send``: the outbox sender alone, for workers that run without one."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.commands.run import settings_from_args
from bot.heap import tune_garbage_collector
from bot.logging import configure_logging
from bot.sender_process import serve_sender


def register(subparsers: Any) -> None:
    """Register ``jikimi send``."""
    parser = subparsers.add_parser(
        "send",
        help="deliver the outbox for every worker (run them with JIKIMI_SENDER__IN_WORKER=false)",
    )
    parser.add_argument("--api-base", help="Bot API base URL (default: api.telegram.org)")
    parser.add_argument("--token", help="bot token (default: JIKIMI_TELEGRAM__TOKEN)")
    parser.add_argument(
        "--port",
        type=int,
        help="serve /healthz, /readyz and /metrics here (host: JIKIMI_TELEGRAM__WEBHOOK_HOST)",
    )
    parser.set_defaults(handler=_send)


def _send(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    configure_logging(json_format=settings.log_json)
    if not settings.telegram.token.get_secret_value():
        print("no bot token: set JIKIMI_TELEGRAM__TOKEN or pass --token")
        return 2
    tune_garbage_collector()
    asyncio.run(serve_sender(settings, port=args.port))
    return 0
