"""Give every handler ``lang``: the citizen's /lang choice, else the language of the text they
are writing, else the one remembered from their earlier texts, else Telegram's, else the default
(the rule is :mod:`situation.language`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update, User
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.language import answer_language, written_language
from storage.citizens import find_citizen

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def language_from_code(code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` to ``ko`` or ``en``; anything else gets ``default``."""
    if code:
        lowered = code.lower()
        if lowered.startswith("ko"):
            return "ko"
        if lowered.startswith("en"):
            return "en"
    return default


def private_words(event: TelegramObject) -> str | None:
    """The words a citizen writes in a private message or its edit (a command taken off).

    A forwarded message's words are someone else's: they do not tell the citizen's language.
    """
    if not isinstance(event, Update):
        return None
    message: Message | None = event.message or event.edited_message
    if message is None or message.chat.type != "private" or message.forward_origin is not None:
        return None
    text = message.text or message.caption
    if text and text.startswith("/"):
        _, _, text = text.partition(" ")
    return text or None


async def citizen_language(
    *,
    session: AsyncSession | None,
    telegram_user_id: int,
    code: str | None,
    default: str,
    text: str | None = None,
) -> str:
    """The language to answer a user in (``text``: what they are writing now, if anything)."""
    stored, chosen = None, False
    if session is not None:
        citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
        if citizen is not None and citizen.language in ("ko", "en"):
            stored, chosen = citizen.language, citizen.language_chosen
    return answer_language(
        chosen=chosen,
        stored=stored,
        written=written_language(text),
        client=language_from_code(code, default),
    )


class LanguageMiddleware(BaseMiddleware):
    """Set ``data["lang"]`` for the handlers of an update (needs the database middleware)."""

    def __init__(self, *, default: str = "ko") -> None:
        self._default = default

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Resolve the language, then run the handler."""
        user: User | None = data.get("event_from_user")
        lang = self._default
        if user is not None and not user.is_bot:
            lang = await citizen_language(
                session=data.get("session"),
                telegram_user_id=user.id,
                code=user.language_code,
                default=self._default,
                text=private_words(event),
            )
        data["lang"] = lang
        return await handler(event, data)
