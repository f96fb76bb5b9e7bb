"""Routers shared by every area: errors and lifecycle."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return the shared routers in order."""
    from handlers.common import errors

    return [errors.router]
