"""Routers for the staff conversation area (the staff supergroup and follow-up answers)."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return this area's routers in order: buttons, commands, follow-ups, then the relay."""
    from handlers.staff import buttons, commands, followup, relay, service

    return [
        buttons.get_router(),
        commands.get_router(),
        followup.get_router(),
        service.get_router(),
        relay.get_router(),
    ]
