"""getUpdates read so that one unreadable update cannot stop polling.

aiogram's polling reads a batch into ``list[Update]`` at once: one update it cannot read and
the whole batch fails, is logged as "Failed to fetch updates", and is asked for again at the
same offset, forever, while every other update waits behind it. This request middleware on
the bot's HTTP session sends the same getUpdates and reads its answer as plain JSON
(:class:`GetRawUpdates`), then the updates (:func:`read_updates`): all at once as aiogram
would, and only when that fails each on its own (``bot.malformed.read_update``), an unreadable
one coming back as a ``MalformedUpdate`` in its place. aiogram's polling goes on as before: it
hands each update to the dispatcher and moves its offset past it.

Usage::

    session.middleware(TolerantGetUpdates())      # create_bot does this
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import Update
from pydantic import TypeAdapter, ValidationError

from bot.malformed import read_update


class GetRawUpdates(GetUpdates):
    """aiogram's getUpdates, its answer read as a list of plain JSON values."""

    __returning__ = list[Any]


# aiogram reads answers with ``Response[method.__returning__]``, which pydantic caches only
# weakly: held here, it is built once (as in bot.sent_messages).
_RAW_RESPONSE = Response[list[Any]]


@cache
def _updates() -> TypeAdapter[list[Update]]:
    return TypeAdapter(list[Update])


def read_updates(items: list[Any], bot: Bot) -> list[Update]:
    """Read a batch of raw updates for ``bot``; unreadable ones become ``MalformedUpdate``.

    The batch is read at once first, as aiogram reads it: one call into pydantic costs less
    than one per update, and a batch with an unreadable update is rare.
    """
    try:
        return _updates().validate_python(items, context={"bot": bot})
    except ValidationError:
        return [update for item in items if (update := read_update(item, bot)) is not None]


class TolerantGetUpdates(BaseRequestMiddleware):
    """Make aiogram's getUpdates survive unreadable updates; other calls pass untouched."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        """Ask for the same updates as plain JSON, then read them with :func:`read_updates`."""
        if not isinstance(method, GetUpdates) or isinstance(method, GetRawUpdates):
            return await make_request(bot, method)
        raw = GetRawUpdates.model_construct(_fields_set=method.model_fields_set, **dict(method))
        items = cast(list[Any], await make_request(bot, raw))
        # A request middleware passes on what make_request returns: the answer's result.
        return cast(Response[Any], read_updates(items, bot))
