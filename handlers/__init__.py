"""aiogram routers, one module per conversation area; the order of routers is behaviour."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return every router of the bot in the order the dispatcher must try them."""
    from handlers import citizen, common, experts, staff

    return [
        *common.get_routers(),
        *staff.get_routers(),
        *experts.get_routers(),
        *citizen.get_routers(),
        *staff.get_last_routers(),
        *common.get_last_routers(),
    ]
