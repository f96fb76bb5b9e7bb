"""Subcommands of the ``jikimi`` CLI, one module each with ``register(subparsers)``."""

from __future__ import annotations

from types import ModuleType

from bot.commands import community, db, experts, maintenance, manuals, run, sandbox

COMMAND_MODULES: list[ModuleType] = [run, sandbox, db, manuals, maintenance, experts, community]
