"""A worker handles at most ``max_concurrent_updates`` updates at once, so a surge cannot queue
the sender behind a backlog; among the updates waiting, a citizen's words go first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram.types import TelegramObject

from bot.settings import Settings
from tests.e2e.citizen_helpers import CITY_HALL, bot_messages, reports_of, settle
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


async def waiting_for(app: E2E, count: int) -> None:
    """Return once ``count`` updates wait for their turn in the worker (15 s at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while app.runtime.admission.waiting < count:
        assert loop.time() < deadline, f"{app.runtime.admission.waiting} waiting, not {count}"
        await asyncio.sleep(0.02)


def one_update_at_a_time(settings: Settings) -> None:
    """Let the worker handle one update at a time."""
    settings.telegram.max_concurrent_updates = 1


@pytest.mark.bot_settings.with_args(one_update_at_a_time)
async def test_in_a_backlog_a_citizens_words_go_before_locations(app: E2E) -> None:
    """Two locations wait behind a busy worker; a citizen's words sent after them go first."""
    busy, first, second, late = [await app.citizen(f"시민{number}") for number in range(4)]
    release = asyncio.Event()
    admitted: list[int] = []

    async def hold_the_first(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data["event_from_user"]
        admitted.append(user.id)
        if user.id == busy.id:
            await release.wait()
        return await handler(event, data)

    app.runtime.dispatcher.update.outer_middleware(hold_the_first)
    await app.client.send_text(busy.id, busy.id, "건물에서 연기가 나요")
    for citizen in (first, second):
        await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.client.send_text(late.id, late.id, "지하차도에 물이 차올라요")
    await waiting_for(app, 3)  # all three fetched and waiting behind the busy one
    release.set()
    await settle(app, busy.id, first.id, second.id, late.id, timeout=30)
    assert admitted == [busy.id, late.id, first.id, second.id]
    for citizen in (busy, first, second, late):
        assert await bot_messages(app, citizen.id), f"{citizen.name} got no answer"
        assert len(await reports_of(app, citizen.id)) == 1


@pytest.mark.bot_settings.with_args(one_update_at_a_time)
async def test_stopping_finishes_the_updates_polling_fetched(app: E2E) -> None:
    """Fetched updates are confirmed to Telegram already: a stop handles them before it ends."""
    citizens = [await app.citizen(f"시민{number}") for number in range(5)]
    release = asyncio.Event()

    async def hold(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        await release.wait()
        return await handler(event, data)

    app.runtime.dispatcher.update.outer_middleware(hold)
    for citizen in citizens:
        await app.client.send_text(citizen.id, citizen.id, "지하차도에 물이 차올라요")
    await waiting_for(app, len(citizens) - 1)  # all fetched: one held, the others waiting
    stopping = asyncio.create_task(app.runtime.stop_polling())
    await asyncio.sleep(0.3)
    assert app.polling is not None and not app.polling.done()  # waiting for the updates
    release.set()
    await stopping
    await asyncio.wait_for(app.polling, timeout=30)
    assert not app.runtime.dispatcher_busy()  # done before polling returned
    for citizen in citizens:
        assert len(await reports_of(app, citizen.id)) == 1, citizen.name
