"""Routers for the staff conversation area."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return this area's routers in order."""
    return []
