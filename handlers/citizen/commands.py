"""Citizen commands in private: /start, /help, /lang, /new, /cancel, /myreports, /forget."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.settings import Settings
from handlers.citizen.convert import intake_config
from situation import citizens
from situation.clock import Clock
from situation.outgoing import Outgoing


async def start(
    message: Message, session: Any, settings: Settings, lang: str, clock: Clock
) -> None:
    """Welcome the citizen, remind them of 119/112 and ask for consent."""
    await citizens.start(
        session=session,
        user_id=message.chat.id,
        chat_id=message.chat.id,
        lang=lang,
        now=clock.now(),
        retention_days=settings.retention_days,
    )


async def help_(message: Message, session: Any, lang: str) -> None:
    """Explain how to report."""
    await Outgoing(session=session, chat_id=message.chat.id, lang=lang).message("citizen_help")


async def language(message: Message, session: Any, lang: str) -> None:
    """Offer Korean or English."""
    await citizens.ask_language(session=session, chat_id=message.chat.id, lang=lang)


async def new(message: Message, session: Any, settings: Settings, lang: str, clock: Clock) -> None:
    """Start a new report; the open one keeps everything it has."""
    await citizens.new_report(
        session=session,
        user_id=message.chat.id,
        chat_id=message.chat.id,
        lang=lang,
        config=intake_config(settings),
        now=clock.now(),
    )


async def cancel(
    message: Message, session: Any, settings: Settings, lang: str, clock: Clock
) -> None:
    """Cancel the open report."""
    await citizens.cancel_report(
        session=session,
        user_id=message.chat.id,
        chat_id=message.chat.id,
        lang=lang,
        config=intake_config(settings),
        now=clock.now(),
    )


async def my_reports(message: Message, session: Any, lang: str, clock: Clock) -> None:
    """List the citizen's reports with their status."""
    await citizens.list_reports(
        session=session,
        user_id=message.chat.id,
        chat_id=message.chat.id,
        lang=lang,
        now=clock.now(),
    )


async def forget(message: Message, session: Any, lang: str) -> None:
    """Ask for confirmation before deleting the citizen's personal data."""
    await citizens.ask_forget(session=session, chat_id=message.chat.id, lang=lang)


async def unknown_command(message: Message, session: Any, lang: str) -> None:
    """Answer an unknown command with the help text."""
    await Outgoing(session=session, chat_id=message.chat.id, lang=lang).message("citizen_help")


def bare(text: str) -> bool:
    """Whether a command comes alone, without words after it."""
    return len(text.split(maxsplit=1)) == 1


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    # Every handler here answers a command, and commands come in text only: a caption is part
    # of a report (a photo captioned "/help" is a photo). A report skips the eight filters in one.
    router.message.filter(F.chat.type == "private", F.text.startswith("/"))
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(language, Command("lang"))
    router.message.register(new, Command("new"))
    router.message.register(cancel, Command("cancel"))
    router.message.register(my_reports, Command("myreports"))
    router.message.register(forget, Command("forget"))
    # "/119 people trapped in the lift" is a report of those words: it passes to the reports.
    router.message.register(unknown_command, F.text.func(bare))
    return router
