"""Answer button presses once what the press did is stored, and never undo it by answering.

Usage (in a callback handler, after the domain call)::

    await answer(query, render(lang, "citizen_callback_expired"))

Inside an update's transaction (``answers_after_commit``, entered by the database middleware)
the answer waits until the transaction has committed: a "taken" toast must not show for a take
that then rolls back, and the transaction (on SQLite the process's write turn) must not stay
open across a round trip to Telegram. Outside one, it is sent at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingAnswer:
    """An answer to a button press, held until its update's transaction commits."""

    query: CallbackQuery
    text: str | None
    show_alert: bool


_pending: ContextVar[list[PendingAnswer] | None] = ContextVar(
    "jikimi_pending_answers", default=None
)


async def answer(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press after its update's transaction commits (at once outside one)."""
    pending = _pending.get()
    if pending is None:
        await send_answer(PendingAnswer(query, text, show_alert))
    else:
        pending.append(PendingAnswer(query, text, show_alert))


@contextlib.contextmanager
def answers_after_commit() -> Iterator[list[PendingAnswer]]:
    """Collect the answers given inside the block; the caller sends them once it committed."""
    pending: list[PendingAnswer] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


async def send_answer(pending: PendingAnswer) -> None:
    """Send one answer; a Telegram error is logged, never raised.

    A 429, an expired query or a network error here must not fail an update whose work is
    already stored. Unanswered, the button only spins until the client gives up.
    """
    try:
        await pending.query.answer(pending.text, show_alert=pending.show_alert)
    except TelegramAPIError as error:
        log.warning(
            "could not answer callback query %s: %s", pending.query.id, type(error).__name__
        )
