"""The ``jikimi`` command line: ``jikimi --help`` lists every command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.commands import COMMAND_MODULES


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
    code = args.handler(args)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
