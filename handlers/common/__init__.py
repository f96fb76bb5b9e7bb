"""Routers shared by every area: errors and lifecycle first, the fallback for buttons last."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return fresh shared routers that come before the areas (a router has one dispatcher)."""
    from handlers.common import errors, membership, start

    return [errors.get_router(), membership.get_router(), start.get_router()]


def get_last_routers() -> list[Router]:
    """Return fresh shared routers that come after every area's: the buttons' last resort."""
    from handlers.common import fallback

    return [fallback.get_router()]
