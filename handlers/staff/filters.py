"""Access rules of the staff routers: the staff supergroup, and a registered role."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from situation.audit import Actor
from situation.staffroom import RoomConfig
from storage.models.staff import StaffMember


def in_staff_chat(event: Message | CallbackQuery, room: RoomConfig) -> bool:
    """Whether the update comes from the configured staff supergroup."""
    if room.chat_id is None:
        return False
    if isinstance(event, CallbackQuery):
        return event.message is not None and event.message.chat.id == room.chat_id
    return event.chat.id == room.chat_id


def actor_of(member: StaffMember) -> Actor:
    """Return the audit actor for a staff member."""
    return Actor(user_id=member.telegram_user_id, name=member.name)
