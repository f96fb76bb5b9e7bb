"""Download what citizens send (getFile, at most Telegram's 20 MB) for the media store.

Usage (a handler)::

    data, problem = await fetch_file(bot, file_id=photo.file_id, size=photo.file_size,
                                     max_bytes=settings.reports.max_photo_bytes)
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

log = logging.getLogger(__name__)

TOO_LARGE = "too_large"
FAILED = "failed"
DOWNLOAD_TIMEOUT = 60


async def fetch_file(
    bot: Bot, *, file_id: str, size: int | None, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """Return the file's bytes, or None with ``"too_large"`` or ``"failed"``."""
    if size is not None and size > max_bytes:
        return None, TOO_LARGE
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            return None, TOO_LARGE
        if not file.file_path:
            return None, FAILED
        buffer = await bot.download_file(file.file_path, timeout=DOWNLOAD_TIMEOUT)
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
