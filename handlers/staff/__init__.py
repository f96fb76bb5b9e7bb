"""Routers for the staff conversation area (the staff supergroup and follow-up answers)."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return this area's router: buttons, commands, follow-ups, then the relay, in one parent.

    The parent takes messages of the staff supergroup only, so every other message passes the
    whole area in one check instead of five routers' (the area's message handlers all serve
    the staff supergroup).
    """
    from handlers.staff import buttons, commands, followup, relay, service
    from handlers.staff.filters import in_staff_chat

    area = Router(name=__name__)
    area.message.filter(in_staff_chat)
    area.include_routers(
        buttons.get_router(),
        commands.get_router(),
        followup.get_router(),
        service.get_router(),
        relay.get_router(),
    )
    return [area]


def get_last_routers() -> list[Router]:
    """Return this area's router that comes after every other area's: unknown commands."""
    from handlers.staff import unknown

    return [unknown.get_router()]
