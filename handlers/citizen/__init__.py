"""Routers for the citizen conversation area (private chats)."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return this area's routers in order: commands and buttons before free messages."""
    from handlers.citizen import callbacks, commands, library, reports

    return [
        library.get_router(),
        commands.get_router(),
        callbacks.get_router(),
        reports.get_router(),
    ]
