"""Several workers share conversation state and event isolation through Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

from bot.app import create_fsm
from bot.settings import Settings
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


def _key() -> StorageKey:
    user = uuid.uuid4().int % 10**9 + 10**9
    return StorageKey(bot_id=7_000_000_001, chat_id=user, user_id=user)


async def test_two_workers_see_the_same_state() -> None:
    """State written by one worker's storage is read by another's."""
    settings = Settings(redis_url=REDIS_URL)
    first, first_isolation = create_fsm(settings)
    second, _ = create_fsm(settings)
    assert isinstance(first, RedisStorage) and isinstance(first_isolation, RedisEventIsolation)
    key = _key()
    try:
        await first.set_state(key, "report:where")
        await first.set_data(key, {"reference": "SEL-0001"})
        assert await second.get_state(key) == "report:where"
        assert await second.get_data(key) == {"reference": "SEL-0001"}
        await second.set_state(key, None)
        await second.set_data(key, {})
        assert await first.get_state(key) is None
    finally:
        await first.close()
        await second.close()


async def test_event_isolation_serialises_one_chat_across_workers() -> None:
    """Two workers never handle updates of the same chat at the same time."""
    settings = Settings(redis_url=REDIS_URL)
    storages = [create_fsm(settings) for _ in range(2)]
    key = _key()
    inside = 0
    overlaps = 0
    order: list[int] = []

    async def handle(worker: int) -> None:
        nonlocal inside, overlaps
        _, isolation = storages[worker]
        async with isolation.lock(key):
            inside += 1
            overlaps += inside > 1
            order.append(worker)
            await asyncio.sleep(0.05)
            inside -= 1

    try:
        await asyncio.gather(*(handle(i % 2) for i in range(6)))
    finally:
        for storage, isolation in storages:
            await isolation.close()
            await storage.close()
    assert overlaps == 0
    assert sorted(order) == [0, 0, 0, 1, 1, 1]
