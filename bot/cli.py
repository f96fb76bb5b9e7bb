"""The ``jikimi`` command line: ``jikimi --help`` lists every command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.commands import COMMAND_MODULES
from bot.logging import configure_logging
from bot.operator_errors import explain

log = logging.getLogger("jikimi")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="jikimi",
        description="jikimi: the chat-based situation bot of a city's disaster-situation room.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except Exception as error:
        problem = explain(error)
        if problem is None:
            _log_crash(args.command)
        else:
            _log_problem(args.command, problem)
        return 1
    return int(code or 0)


def _ensure_logging() -> None:
    """Set up the redacting handler for a command that set up no logging of its own."""
    if not logging.getLogger().handlers:
        configure_logging(json_format=_json_logs_wanted())


def _log_problem(command: str, problem: str) -> None:
    """Say in one line what the operator must fix (a database down, a refused token, ...)."""
    _ensure_logging()
    log.error("jikimi %s: %s", command, problem)


def _log_crash(command: str) -> None:
    """Log an unexpected failure through the redacting handler, never as a bare traceback.

    A bare traceback would skip the redaction and the JSON format: an unreachable Bot API at
    start-up names the token in the URL it failed on.
    """
    _ensure_logging()
    log.critical("jikimi %s stopped by an unexpected error", command, exc_info=True)


def _json_logs_wanted() -> bool:
    """``JIKIMI_LOG_JSON`` as the settings read it; False when the settings cannot be read."""
    from bot.settings import Settings

    try:
        return Settings().log_json
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
