"""The last resort for buttons: a press no other router took still gets an answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from handlers.common.answers import answer
from situation.texts import render


async def unknown_button(query: CallbackQuery, lang: str) -> None:
    """Tell the user that this button (stale, forged or unknown) is no longer available."""
    await answer(query, render(lang, "citizen_callback_expired"))


def get_router() -> Router:
    """Build the fallback router; it must come after every other router."""
    router = Router(name=__name__)
    router.callback_query.register(unknown_button)
    return router
