"""The language middleware: stored choice, else Telegram's language_code, else the default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.types import User

from bot.middlewares.language import LanguageMiddleware, language_from_code
from storage.citizens import get_or_create_citizen


def test_language_from_code() -> None:
    assert language_from_code("ko-KR", "en") == "ko"
    assert language_from_code("en-US", "ko") == "en"
    assert language_from_code("fr", "ko") == "ko"
    assert language_from_code(None, "en") == "en"


async def run(middleware: LanguageMiddleware, data: dict[str, Any]) -> str:
    seen: dict[str, str] = {}

    async def handler(event: object, handler_data: dict[str, Any]) -> None:
        seen["lang"] = handler_data["lang"]

    await middleware(handler, object(), data)  # type: ignore[arg-type]
    return seen["lang"]


async def test_stored_preference_wins(session_factory: Any) -> None:
    middleware = LanguageMiddleware(default="ko")
    user = User(id=77, is_bot=False, first_name="Sarah", language_code="ko")
    async with session_factory() as session, session.begin():
        assert await run(middleware, {"event_from_user": user, "session": session}) == "ko"
        citizen, _ = await get_or_create_citizen(
            session=session, telegram_user_id=77, now=datetime.now(UTC)
        )
        citizen.language = "en"
        await session.flush()
        assert await run(middleware, {"event_from_user": user, "session": session}) == "en"
    assert await run(middleware, {}) == "ko"
    assert (
        await run(
            LanguageMiddleware(default="en"),
            {"event_from_user": User(id=1, is_bot=False, first_name="x")},
        )
        == "en"
    )
