"""Service messages in the staff supergroup: a topic closed by hand is reopened."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import Message

from handlers.staff.filters import in_staff_chat
from situation.clock import Clock
from situation.staffroom import RoomConfig, topic_closed_by_hand


async def topic_closed(message: Message, session: Any, room: RoomConfig, clock: Clock) -> None:
    """Reopen the topic of an incident that is still open."""
    if message.from_user is not None and message.from_user.is_bot:
        return
    if not message.message_thread_id:
        return
    await topic_closed_by_hand(
        session=session, room=room, thread_id=message.message_thread_id, now=clock.now()
    )


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(in_staff_chat)
    router.message.register(topic_closed, F.forum_topic_closed)
    return router
