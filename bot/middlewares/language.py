"""Give every handler ``lang``: the citizen's stored choice, else Telegram's, else the default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlmodel.ext.asyncio.session import AsyncSession

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


async def citizen_language(
    *, session: AsyncSession | None, telegram_user_id: int, code: str | None, default: str
) -> str:
    """The language to answer a user in: their stored choice, else Telegram's, else ``default``."""
    lang = language_from_code(code, default)
    if session is not None:
        citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
        if citizen is not None and citizen.language in ("ko", "en"):
            lang = citizen.language
    return lang


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
            )
        data["lang"] = lang
        return await handler(event, data)
