"""Any other private message starts or continues a report; live locations are followed, and
edited messages are recorded with their report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.media import Prefetched
from bot.settings import Settings
from handlers.citizen.convert import incoming, intake_config, place_of
from situation.clock import Clock
from situation.edits import receive_edit
from situation.intake import (
    IncomingMessage,
    IntakeConfig,
    ReportListener,
    receive_message,
    update_live_location,
)


async def report_message(
    message: Message,
    bot: Bot,
    session: Any,
    settings: Settings,
    lang: str,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
    prefetched: Prefetched | None = None,
) -> None:
    """Store the message in the citizen's report and queue the answers."""
    config = intake_config(settings)
    await receive_message(
        session=session,
        message=await _read(message, bot, lang, config, prefetched),
        config=config,
        now=clock.now(),
        listeners=report_listeners,
    )


async def _read(
    message: Message, bot: Bot, lang: str, config: IntakeConfig, prefetched: Prefetched | None
) -> IncomingMessage:
    """The citizen's message as intake takes it (its file already fetched)."""
    return await incoming(
        message, bot=bot, lang=lang, max_bytes=config.max_file_bytes, prefetched=prefetched
    )


async def live_location(
    message: Message,
    session: Any,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
) -> None:
    """Move the report's location with the citizen's live location."""
    place = place_of(message)
    if place is None or message.from_user is None:
        return
    await update_live_location(
        session=session,
        user_id=message.from_user.id,
        message_id=message.message_id,
        place=place,
        now=clock.now(),
        listeners=report_listeners,
    )


async def edited_message(
    message: Message,
    bot: Bot,
    session: Any,
    settings: Settings,
    lang: str,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
    prefetched: Prefetched | None = None,
) -> None:
    """Record the citizen's edited message with its report and queue the answers."""
    config = intake_config(settings)
    await receive_edit(
        session=session,
        message=await _read(message, bot, lang, config, prefetched),
        config=config,
        now=clock.now(),
        listeners=report_listeners,
    )


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.edited_message.filter(F.chat.type == "private")
    router.message.register(report_message)
    router.edited_message.register(live_location, F.location)
    router.edited_message.register(edited_message)
    return router
