"""Incident card buttons: only registered staff in the staff supergroup may press them."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.hub_admin import BotHubAdmin
from community.hub_work import HubWork
from handlers.common.answers import answer
from handlers.staff.filters import actor_of, in_staff_chat
from situation.cards import CallbackError, StaffAction
from situation.clock import Clock
from situation.roles import allowed
from situation.staffroom import RoomConfig
from situation.texts import render
from situation.triage import perform
from storage.models.staff import StaffMember


async def card_button(
    query: CallbackQuery,
    bot: Bot,
    session: Any,
    room: RoomConfig,
    clock: Clock,
    lang: str,
    role: str | None,
    staff_member: StaffMember | None,
    hub_work: HubWork | None = None,
) -> None:
    """Carry out a card button, or refuse anyone who is not staff in the staff supergroup."""
    if not in_staff_chat(query, room) or staff_member is None:
        # Whoever this is reads their own language, not the staff room's.
        await answer(query, render(lang, "staff_answer", key="refused"), show_alert=True)
        return
    try:
        action = StaffAction.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(room.lang, "staff_answer", key="invalid"), show_alert=True)
        return
    if not allowed(role, action.action):
        await answer(query, render(room.lang, "staff_answer", key="refused"), show_alert=True)
        return
    outcome = await perform(
        session=session,
        action=action,
        actor=actor_of(staff_member),
        room=room,
        now=clock.now(),
        role=role,
        hub=BotHubAdmin(bot),  # a close or merge tidies the incident's community at once
        work=hub_work,
    )
    await answer(query, outcome.answer, show_alert=not outcome.ok)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(card_button, F.data.startswith(f"{StaffAction.PREFIX}:"))
    return router
