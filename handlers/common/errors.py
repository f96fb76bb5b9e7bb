"""The errors router: nothing a user sent is lost when a handler fails."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.types import ErrorEvent, Update

from bot.malformed import MalformedUpdate, private_writer
from bot.middlewares.language import language_from_code
from bot.settings import Settings
from handlers.common.answers import answer
from situation.failures import FailureRecorder
from situation.texts import render

log = logging.getLogger(__name__)


async def keep_failed_update(
    event: ErrorEvent,
    failures: FailureRecorder,
    lang: str | None = None,
    settings: Settings | None = None,
) -> bool:
    """Log the failure, keep the raw update so staff can recover it, and tell who sent it."""
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    citizen_chat, code = _private_sender(update)
    default = settings.default_language if settings else "ko"
    await failures.record(
        update_id=update.update_id,
        payload=update_payload(update),
        error=f"{type(event.exception).__name__}: {event.exception}",
        citizen_chat=citizen_chat,
        lang=lang or language_from_code(code, default),
    )
    query = update.callback_query
    if query is not None:  # its press was rolled back: say so rather than leave it spinning
        presser_lang = lang or language_from_code(query.from_user.language_code, default)
        await answer(query, render(presser_lang, "callback_failed"), show_alert=True)
    return True


def update_payload(update: Update) -> dict[str, Any]:
    """The update as JSON, as Telegram sent it.

    ``exclude_unset``: aiogram fills the fields Telegram left out of a message's link preview
    options with ``Default`` placeholders, which pydantic cannot serialise. An update the bot
    could not read keeps the raw JSON it came as (the update itself is only its id).
    """
    if isinstance(update, MalformedUpdate):
        return update.payload
    return update.model_dump(mode="json", exclude_none=True, exclude_unset=True)


def _private_sender(update: Update) -> tuple[int | None, str | None]:
    """The private chat and language code of the citizen who sent ``update``, if one did."""
    if isinstance(update, MalformedUpdate):  # only its raw JSON tells
        writer = private_writer(update.payload)
        return (None, None) if writer is None else (writer.chat_id, writer.language_code)
    message = update.message or update.edited_message
    if message is not None and message.chat.type == "private":
        sender = message.from_user
        if sender is not None and not sender.is_bot:
            return message.chat.id, sender.language_code
    query = update.callback_query
    if query is None or query.message is None or query.message.chat.type != "private":
        return None, None
    if query.from_user.is_bot:
        return None, None
    return query.message.chat.id, query.from_user.language_code


def get_router() -> Router:
    """Build the errors router."""
    router = Router(name=__name__)
    router.errors.register(keep_failed_update)
    return router
