"""A worker handles at most ``max_concurrent_updates`` updates at once and leaves the rest at
Telegram (the sandbox) until it has room: a surge cannot queue the sender behind a backlog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram.types import TelegramObject

from bot.settings import Settings
from tests.e2e.citizen_helpers import CITY_HALL, reports_of, settle
from tests.e2e.conftest import E2E

LIMIT = 2


def at_most_two_updates(settings: Settings) -> None:
    """Let the worker handle two updates at a time."""
    settings.telegram.max_concurrent_updates = LIMIT


@pytest.mark.bot_settings.with_args(at_most_two_updates)
async def test_a_burst_is_handled_a_few_updates_at_a_time(app: E2E) -> None:
    """Twelve citizens write at once: never more than two updates in flight, all answered."""
    citizens = [await app.citizen(f"시민{number}") for number in range(12)]
    in_flight = peak = 0

    async def count(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # Inside the dispatcher's semaphore: what the limit bounds (its task set briefly holds
        # a finished task next to the one that took its place).
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await handler(event, data)
        finally:
            in_flight -= 1

    app.runtime.dispatcher.update.outer_middleware(count)
    for citizen in citizens:
        await app.client.send_text(citizen.id, citizen.id, "지하차도에 물이 차올라요")
        await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await settle(app, *(citizen.id for citizen in citizens), timeout=60)
    assert 1 <= peak <= LIMIT
    for citizen in citizens:
        (report,) = await reports_of(app, citizen.id)
        assert report.status == "filed" and report.latitude is not None
