"""``jikimi send``: the outbox sender alone, for workers that run without one."""

from __future__ import annotations

import argparse
from typing import Any

from bot import event_loop
from bot.commands.run import bot_settings
from bot.heap import tune_garbage_collector
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
    settings = bot_settings(args)
    if settings is None:
        return 2
    tune_garbage_collector()
    event_loop.run(serve_sender(settings, port=args.port), loop=settings.event_loop)
    return 0
