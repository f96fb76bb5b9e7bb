"""Answer button presses without ever undoing what the press did.

Usage (in a callback handler, after the domain call)::

    await answer(query, render(lang, "citizen_callback_expired"))
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery

log = logging.getLogger(__name__)


async def answer(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press; a Telegram error of the answer itself is logged, never raised.

    The answer is sent inside the update's transaction, after the press did its work: a 429,
    an expired query or a network error here must not roll that work back. Unanswered, the
    button only spins until the client gives up.
    """
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramAPIError as error:
        log.warning("could not answer callback query %s: %s", query.id, type(error).__name__)
