"""Factories for the Bot and the Dispatcher (nothing is built at import time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

import handlers
from bot.api_calls import RateLimitTally
from bot.inline_filters import run_filters_inline
from bot.media import MediaPrefetchMiddleware
from bot.middlewares.admission import AdmissionMiddleware
from bot.middlewares.database import DatabaseMiddleware, write_gate
from bot.middlewares.language import LanguageMiddleware
from bot.middlewares.malformed import MalformedChatLock, MalformedUpdateMiddleware
from bot.middlewares.metrics import MetricsMiddleware
from bot.polling import TolerantGetUpdates
from bot.scheduler import setup_situation_room
from bot.settings import Settings
from community.hub_work import HubWork
from situation.file_release import FileReleaser


def create_bot(settings: Settings) -> Bot:
    """Build the Bot client for the configured API server (Telegram or the sandbox)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
    session.middleware(RateLimitTally())
    session.middleware(TolerantGetUpdates())
    return Bot(
        token=settings.telegram.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_fsm(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """Choose FSM storage and event isolation: Redis when configured, memory otherwise."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        from bot.chat_lock import RenewedChatLock

        # Keys carry the bot id, so two bots sharing one Redis keep apart. A crashed worker's
        # chat lock frees after 15 s (aiogram's default: 60 s); a live worker renews it for as
        # long as the update runs (a media download takes up to 60 s, bot/media.py).
        keys = DefaultKeyBuilder(with_bot_id=True)
        storage = RedisStorage.from_url(settings.redis_url, key_builder=keys)
        return storage, RenewedChatLock(storage.redis, keys)
    return MemoryStorage(), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    staff_room_wake: Callable[[], None] | None = None,
    **services: Any,
) -> Dispatcher:
    """Build the Dispatcher with middlewares, routers and services for the handlers.

    ``staff_room_wake`` (the projector's) defers the staff room's side of a citizen's report
    until the citizen's transaction has committed; without it the report is posted inline.
    Handlers get a ``file_releaser`` (built here unless given) that deletes erased files after
    their transaction commits, and a ``hub_work`` that makes the experts' hub calls a
    community's transaction asked for (rights check, links, mutes) after it commits.
    """
    services.setdefault(
        "file_releaser",
        FileReleaser(
            session_factory=session_factory,
            media_dir=settings.media_dir,
            turn=lambda: write_gate(session_factory),  # on SQLite, wait for the write turn
        ),
    )
    services.setdefault(
        "hub_work",
        HubWork(session_factory=session_factory, turn=lambda: write_gate(session_factory)),
    )
    storage, isolation = create_fsm(settings)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        **services,
    )
    # First after aiogram's chat lock (and the same lock for updates aiogram could not read):
    # a chat's own updates keep their order.
    dispatcher.update.outer_middleware(MalformedChatLock(dispatcher.fsm))
    admission = AdmissionMiddleware(
        settings.telegram.max_concurrent_updates,
        follow_up_delay=settings.telegram.follow_up_delay_seconds,
    )
    dispatcher["admission"] = admission
    dispatcher.update.outer_middleware(admission)
    dispatcher.update.outer_middleware(MetricsMiddleware())
    dispatcher.update.outer_middleware(MediaPrefetchMiddleware(settings.reports))
    dispatcher.update.outer_middleware(
        DatabaseMiddleware(session_factory, patience=settings.database_retry_seconds)
    )
    dispatcher.update.outer_middleware(LanguageMiddleware(default=settings.default_language))
    # Inside the update's transaction: an unreadable update is kept there and goes no further.
    dispatcher.update.outer_middleware(
        MalformedUpdateMiddleware(default_language=settings.default_language)
    )
    setup_situation_room(dispatcher, settings, session_factory, staff_room_wake=staff_room_wake)
    dispatcher.include_routers(*handlers.get_routers())
    run_filters_inline(dispatcher)
    return dispatcher
