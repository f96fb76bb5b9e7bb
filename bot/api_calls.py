"""A request middleware on the bot's HTTP session: what every Bot API call answered.

Usage::

    tally = RateLimitTally()
    session.middleware(tally)          # create_bot does this
    rate_limit_tally(bot).count        # 429 answers so far, to sends, getFile, admin calls...
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response


class RateLimitTally(BaseRequestMiddleware):
    """Counts the Bot API's 429 Too Many Requests answers to any method."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        """Make the call; count it when Telegram answers 429."""
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.count += 1
            raise


def rate_limit_tally(bot: Bot) -> RateLimitTally:
    """The tally ``create_bot`` put on the bot's session."""
    for middleware in bot.session.middleware:
        if isinstance(middleware, RateLimitTally):
            return middleware
    raise LookupError("this bot's session counts no 429s (not made by create_bot)")
