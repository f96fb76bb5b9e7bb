"""Redis FSM keys carry the bot id, and a chat's lock expires 15 s after a worker dies."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

from bot.app import create_fsm
from bot.settings import Settings
from tests.conftest import REDIS_URL


def _key(bot_id: int) -> StorageKey:
    user = uuid.uuid4().int % 10**9 + 10**9
    return StorageKey(bot_id=bot_id, chat_id=user, user_id=user)


def test_memory_without_redis() -> None:
    """Without a Redis URL the bot keeps state in memory."""
    storage, isolation = create_fsm(Settings(redis_url=None))
    assert isinstance(storage, MemoryStorage)
    assert isinstance(isolation, SimpleEventIsolation)


def test_redis_keys_and_lock_timeout() -> None:
    """Storage and isolation share a key builder with the bot id; the lock lives 15 s."""
    storage, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(storage, RedisStorage) and isinstance(isolation, RedisEventIsolation)
    for builder in (storage.key_builder, isolation.key_builder):
        assert isinstance(builder, DefaultKeyBuilder) and builder.with_bot_id
    assert isolation.lock_kwargs["timeout"] == 15
    key = StorageKey(bot_id=7, chat_id=8, user_id=8)
    assert isolation.key_builder.build(key, "lock") == "fsm:7:8:8:lock"


@pytest.mark.redis
async def test_two_bots_on_one_redis_keep_apart() -> None:
    """The same chat under two bot ids has two states and two independent locks."""
    storage, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    first = _key(7_000_000_001)
    second = StorageKey(bot_id=7_000_000_002, chat_id=first.chat_id, user_id=first.user_id)
    try:
        await storage.set_state(first, "report:where")
        assert await storage.get_state(second) is None
        async with asyncio.timeout(5), isolation.lock(first), isolation.lock(second):
            ttl = await storage.redis.pttl(isolation.key_builder.build(first, "lock"))
            assert 0 < ttl <= 15_000
    finally:
        await storage.set_state(first, None)
        await isolation.close()
        await storage.close()
