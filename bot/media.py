"""Download what citizens send (getFile, at most Telegram's 20 MB) for the media store.

Usage (a handler)::

    data, problem = await fetch_file(bot, file_id=photo.file_id, size=photo.file_size,
                                     max_bytes=settings.reports.max_photo_bytes)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import Message, TelegramObject, Update

from bot.settings import ReportSettings

log = logging.getLogger(__name__)

TOO_LARGE = "too_large"
FAILED = "failed"
DOWNLOAD_TIMEOUT = 60
# A 429 to getFile is waited out when Telegram asks for at most this long, twice at most:
# the download runs before the update's transaction, so only this citizen's update waits.
RETRY_AFTER_LIMIT = 10.0
RATE_LIMIT_RETRIES = 2

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


async def fetch_file(
    bot: Bot, *, file_id: str, size: int | None, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """Return the file's bytes, or None with ``"too_large"`` or ``"failed"``."""
    if size is not None and size > max_bytes:
        return None, TOO_LARGE
    for retry in range(RATE_LIMIT_RETRIES + 1):
        try:
            return await _fetch(bot, file_id=file_id, max_bytes=max_bytes)
        except TelegramRetryAfter as error:
            if retry == RATE_LIMIT_RETRIES or error.retry_after > RETRY_AFTER_LIMIT:
                log.warning("could not download %s: rate limited", file_id)
                return None, FAILED
            await asyncio.sleep(error.retry_after)
    raise AssertionError("unreachable")


async def _fetch(bot: Bot, *, file_id: str, max_bytes: int) -> tuple[bytes | None, str | None]:
    """One attempt at getFile and the download; a 429 is the caller's to wait out."""
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            return None, TOO_LARGE
        if not file.file_path:
            return None, FAILED
        buffer = await bot.download_file(file.file_path, timeout=DOWNLOAD_TIMEOUT)
    except TelegramRetryAfter:
        raise
    except TelegramBadRequest as error:
        if "too big" in error.message.lower():
            return None, TOO_LARGE
        log.warning("getFile refused %s: %s", file_id, error.message)
        return None, FAILED
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("could not download %s: %s", file_id, type(error).__name__)
        return None, FAILED
    if buffer is None:
        return None, FAILED
    data = await asyncio.to_thread(buffer.read)
    if len(data) > max_bytes:
        return None, TOO_LARGE
    return data, None


def file_of(message: Message) -> tuple[str, int | None] | None:
    """Return the (file_id, size) a citizen's message carries, if any (largest photo size)."""
    if message.photo:
        return message.photo[-1].file_id, message.photo[-1].file_size
    for item in (message.document, message.voice, message.video, message.video_note):
        if item is not None:
            return item.file_id, item.file_size
    return None


Prefetched = dict[str, tuple[bytes | None, str | None]]


class MediaPrefetchMiddleware(BaseMiddleware):
    """Download a private (or edited) message's file before the update's transaction opens.

    Register it on ``dispatcher.update`` *before* the database middleware: a slow 20 MB
    download then never holds a transaction (or SQLite's write lock). Handlers find the result
    in ``data["prefetched"]`` (file_id -> (bytes, problem)).
    """

    def __init__(self, reports: ReportSettings) -> None:
        self._reports = reports

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Fetch the file, if any, then run the rest of the chain."""
        message = (event.message or event.edited_message) if isinstance(event, Update) else None
        prefetched: Prefetched = {}
        if message is not None and message.chat.type == "private":
            found = file_of(message)
            if found is not None:
                file_id, size = found
                prefetched[file_id] = await fetch_file(
                    data["bot"], file_id=file_id, size=size, max_bytes=self._reports.max_photo_bytes
                )
        data["prefetched"] = prefetched
        return await handler(event, data)
