"""A citizen answers the "are you safe?" follow-up with a button in their private chat."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery

from handlers.common.answers import answer
from situation.clock import Clock
from situation.followup import FollowUpAnswer, record_answer
from situation.staffroom import RoomConfig
from situation.texts import render


async def followup_answer(
    query: CallbackQuery, session: Any, room: RoomConfig, clock: Clock, lang: str
) -> None:
    """Record the citizen's answer and remove the buttons."""
    parsed = FollowUpAnswer.unpack(query.data or "")
    if parsed is None:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    await record_answer(
        session=session,
        followup_id=parsed.followup_id,
        answer=parsed.answer,
        user_id=query.from_user.id,
        room=room,
        now=clock.now(),
    )
    await answer(query)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(followup_answer, F.data.startswith(f"{FollowUpAnswer.PREFIX}:"))
    return router
