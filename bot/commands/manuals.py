"""``jikimi manuals``: classify text, show a manual, check the catalogue."""

from __future__ import annotations

from typing import Any

import manuals.cli as manuals_cli


def register(subparsers: Any) -> None:
    """Register ``jikimi manuals classify|show|check``."""
    parser = subparsers.add_parser("manuals", help="the action-manual catalogue")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    manuals_cli.add_subcommands(actions)
