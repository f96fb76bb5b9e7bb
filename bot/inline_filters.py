"""Run the routers' synchronous filters on the event loop instead of in a thread each.

aiogram awaits a synchronous callable through ``asyncio.to_thread``: every magic filter
(``F.chat.type == "private"``) and every plain function filter costs a trip to the default
thread pool and back. A citizen's message passes about seventeen of them before it reaches
its handler, and in a surge those trips compete with the database threads for the GIL. Our
filters only compare attributes of the update, so they run inline here.

Routers keep their filters in aiogram's observers: ``observer.handlers[*].filters`` for a
handler's own and the observer's ``_handler.filters`` for ``router.message.filter(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def run_filters_inline(router: Router) -> int:
    """Make every synchronous filter of ``router`` and its sub-routers awaitable; return how many.

    Such a filter must not block: it runs on the event loop.
    """
    converted = 0
    for filter_object in _filters(router):
        if not filter_object.awaitable:
            filter_object.callback = _awaitable(filter_object.callback)
            filter_object.awaitable = True
            converted += 1
    return converted


def _filters(router: Router) -> Iterator[FilterObject]:
    for each in router.chain_tail:
        for observer in each.observers.values():
            own = getattr(observer, "_handler", None)
            if own is not None:
                yield from own.filters or []
            for handler in observer.handlers:
                yield from handler.filters or []


def _awaitable(callback: Callable[..., Any]) -> Callable[..., Any]:
    async def run_inline(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run_inline
