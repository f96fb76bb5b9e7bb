"""getUpdates read update by update, so that one unreadable update cannot stop polling.

aiogram's polling reads a batch into ``list[Update]`` at once: one update it cannot read and
the whole batch fails, is logged as "Failed to fetch updates", and is asked for again at the
same offset, forever, while every other update waits behind it. This request middleware on
the bot's HTTP session sends the same getUpdates and reads its answer as plain JSON
(:class:`GetRawUpdates`), then each update on its own (``bot.malformed.read_update``): an
unreadable one comes back as a ``MalformedUpdate`` in its place. aiogram's polling goes on as
before: it hands each update to the dispatcher and moves its offset past it.

Usage::

    session.middleware(UpdatesOneByOne())      # create_bot does this
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response

from bot.malformed import read_update


class GetRawUpdates(GetUpdates):
    """aiogram's getUpdates, its answer read as a list of plain JSON values."""

    __returning__ = list[Any]


# aiogram reads answers with ``Response[method.__returning__]``, which pydantic caches only
# weakly: held here, it is built once (as in bot.sent_messages).
_RAW_RESPONSE = Response[list[Any]]


class UpdatesOneByOne(BaseRequestMiddleware):
    """Make aiogram's getUpdates read each update on its own; other calls pass untouched."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        """Ask for the same updates, then read them one by one."""
        if not isinstance(method, GetUpdates) or isinstance(method, GetRawUpdates):
            return await make_request(bot, method)
        raw = GetRawUpdates.model_construct(_fields_set=method.model_fields_set, **dict(method))
        items = cast(list[Any], await make_request(bot, raw))
        updates = [update for item in items if (update := read_update(item, bot)) is not None]
        # A request middleware passes on what make_request returns: the answer's result.
        return cast(Response[Any], updates)
