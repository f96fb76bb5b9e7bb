"""Give every handler the situation room: ``role``, ``staff_member``, ``room`` and the
``report_listeners`` that keep incident topics up to date.

``role`` is "admin", "lead", "staff" or None (anyone else), read from the staff registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.settings import Settings, SituationRoomSettings
from situation.agencies import load_agencies
from situation.roster import load_roster
from situation.staffroom import RoomConfig, StaffRoom
from storage.updates import ClaimedUpdate

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def room_settings(settings: Settings) -> SituationRoomSettings:
    """Return the situation-room section of the settings (defaults when absent)."""
    return settings.situation_room


def build_room(settings: Settings) -> RoomConfig:
    """Build the situation room's configuration from the settings."""
    section = room_settings(settings)
    return RoomConfig(
        chat_id=settings.staff_chat_id,
        lang=settings.default_language,
        timezone=settings.timezone,
        show_staff_names=settings.show_staff_names,
        ack_minutes=dict(section.ack_minutes),
        followup_after=timedelta(hours=section.followup_hours),
        agencies=load_agencies(section.agencies_file),
        roster=load_roster(section.roster_file) if section.roster_file else None,
        handover_mode=section.handover_mode,
        queue_limit=section.queue_limit or None,
    )


class RoleMiddleware(BaseMiddleware):
    """Resolve the user's situation-room role.

    The database middleware before it reads the user's staff row along with the update's
    claim (``data["claimed_update"]``); an update without one has no staff member.
    """

    def __init__(
        self, settings: Settings, *, staff_room_wake: Callable[[], None] | None = None
    ) -> None:
        self._room = build_room(settings)
        self._listeners = (StaffRoom(self._room, wake=staff_room_wake),)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Put ``role``, ``staff_member``, ``room`` and ``report_listeners`` in the data."""
        claimed: ClaimedUpdate | None = data.get("claimed_update")
        member = claimed.staff if claimed is not None else None
        data["staff_member"] = member
        data["role"] = member.role if member is not None else None
        data["room"] = self._room
        data["report_listeners"] = self._listeners
        return await handler(event, data)
