"""The Bot API method table: ``@method("sendMessage")`` registers a handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.params import Params
from sandbox.state import Bot, World

if TYPE_CHECKING:
    import aiohttp

    from sandbox.webhook import WebhookDeliverer


@dataclass
class Call:
    """One Bot API call: who calls, with what, and the services it may use."""

    world: World
    bot: Bot
    params: Params
    method: str
    webhooks: WebhookDeliverer
    http: aiohttp.ClientSession


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under Bot API method names (matched case-insensitively)."""

    def register(handler: Handler) -> Handler:
        """Add the handler to the table."""
        for name in names:
            METHODS[name.lower()] = handler
        return handler

    return register


def find_method(name: str) -> Handler | None:
    """Return the handler of a method name, or None if the sandbox does not know it."""
    return METHODS.get(name.lower())
