"""The manual library: /manual in private, its buttons, and inline mode in any chat."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
    Message,
)

from handlers.common.answers import answer
from situation import library
from situation.callbacks import CallbackError, ManualBrowse
from situation.texts import render


async def manual_command(message: Message, command: CommandObject, session: Any, lang: str) -> None:
    """Browse the manuals by category, or search them by word (/manual 지진)."""
    await library.show_library(
        session=session, chat_id=message.chat.id, lang=lang, query=command.args or ""
    )


async def library_button(query: CallbackQuery, session: Any, lang: str) -> None:
    """Open a category or a manual from the library."""
    try:
        entry = ManualBrowse.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    opened = query.message is not None and await library.open_library_entry(
        session=session,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        entry=entry,
    )
    await answer(query, None if opened else render(lang, "citizen_callback_expired"))


async def inline_manuals(inline_query: InlineQuery, lang: str) -> None:
    """Offer manual cards that can be shared into any chat (@bot 지진)."""
    cards = library.inline_manual_cards(inline_query.query, lang)
    results: list[InlineQueryResultUnion] = [
        InlineQueryResultArticle(
            id=f"{card.slug}:{lang}",
            title=card.title,
            description=card.description,
            input_message_content=InputTextMessageContent(
                message_text=card.text, parse_mode="HTML"
            ),
        )
        for card in cards
    ]
    await inline_query.answer(results, cache_time=300, is_personal=False)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(manual_command, Command("manual"), F.chat.type == "private", F.text)
    router.callback_query.register(library_button, F.data.startswith(ManualBrowse.PREFIX + ":"))
    router.inline_query.register(inline_manuals)
    return router
