"""Routers shared by every area: errors and lifecycle."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return fresh shared routers (a router can belong to one dispatcher only)."""
    from handlers.common import errors

    return [errors.get_router()]
