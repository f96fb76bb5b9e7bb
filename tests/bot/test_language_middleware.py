"""The language middleware: /lang's choice, else the text's, else remembered or Telegram's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.types import Chat, Message, Update, User

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


def private_text(user: User, text: str, chat_type: str = "private") -> Update:
    """Return an update with a message ``text`` from ``user``."""
    return Update(
        update_id=1,
        message=Message(
            message_id=1,
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type=chat_type),
            from_user=user,
            text=text,
        ),
    )


async def run_on(middleware: LanguageMiddleware, event: Update, data: dict[str, Any]) -> str:
    seen: dict[str, str] = {}

    async def handler(event: object, handler_data: dict[str, Any]) -> None:
        seen["lang"] = handler_data["lang"]

    await middleware(handler, event, data)
    return seen["lang"]


async def test_the_language_written_wins_unless_chosen_with_lang(session_factory: Any) -> None:
    middleware = LanguageMiddleware(default="ko")
    user = User(id=78, is_bot=False, first_name="Tom", language_code="ko")
    english = private_text(user, "There is a fire in my building")
    async with session_factory() as session, session.begin():
        data = {"event_from_user": user, "session": session}
        assert await run_on(middleware, english, data) == "en"
        command = private_text(user, "/new fire in my building")
        assert await run_on(middleware, command, data) == "en"  # the words after a command
        assert await run_on(middleware, private_text(user, "fire!!"), data) == "ko"  # short
        group = private_text(user, "There is a fire in my building", "group")
        assert await run_on(middleware, group, data) == "ko"  # only private chats tell
        citizen, _ = await get_or_create_citizen(
            session=session, telegram_user_id=78, now=datetime.now(UTC)
        )
        citizen.language = "en"  # remembered from an earlier text
        await session.flush()
        assert await run_on(middleware, private_text(user, "fire!!"), data) == "en"
        assert await run_on(middleware, private_text(user, "불났어요 빨리요"), data) == "ko"
        citizen.language, citizen.language_chosen = "en", True  # chosen with /lang
        await session.flush()
        assert await run_on(middleware, private_text(user, "불났어요 빨리요"), data) == "en"
