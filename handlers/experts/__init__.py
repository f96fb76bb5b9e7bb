"""Routers for the experts conversation area: registration, verification, communities, hub."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Return this area's routers in order (fresh routers per dispatcher)."""
    from handlers.experts import hub, registration, staff, verification

    return [
        hub.get_router(),
        verification.get_router(),
        staff.get_router(),
        registration.get_router(),
    ]
