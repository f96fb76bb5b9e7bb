"""Subcommands of the ``jikimi`` CLI, one module each with ``register(subparsers)``."""

from __future__ import annotations

from types import ModuleType

from bot.commands import (
    community,
    db,
    experts,
    export,
    maintenance,
    manuals,
    run,
    sandbox,
    send,
    staff,
)

COMMAND_MODULES: list[ModuleType] = [
    run,
    send,
    sandbox,
    db,
    manuals,
    maintenance,
    experts,
    community,
    staff,
    export,
]
