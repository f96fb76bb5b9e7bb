"""The workers' Redis chat lock: renewed while its update runs, and an update that lost it
all the same ends without an error (see ``bot.chat_lock``)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis

from bot.app import create_fsm
from bot.chat_lock import RenewedChatLock
from bot.settings import Settings
from tests.conftest import REDIS_URL


def test_release_errors_are_not_raised() -> None:
    """The chat lock is built not to raise when it was lost before its release."""
    _, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(isolation, RenewedChatLock)
    assert isolation.lock_kwargs == {"timeout": 15, "raise_on_release_error": False}


def chat_key(bot_id: int) -> StorageKey:
    """A chat no other test uses."""
    user = uuid.uuid4().int % 10**9 + 10**9
    return StorageKey(bot_id=bot_id, chat_id=user, user_id=user)


ShortLock = tuple[Redis, RenewedChatLock, StorageKey, str]


@pytest.fixture
async def short_lock() -> AsyncIterator[ShortLock]:
    """A chat lock living 0.6 s, a fresh chat, and the Redis key of its lock."""
    redis = Redis.from_url(REDIS_URL)
    isolation = RenewedChatLock(redis, DefaultKeyBuilder(with_bot_id=True), timeout=0.6)
    key = chat_key(7_000_000_004)
    try:
        yield redis, isolation, key, isolation.key_builder.build(key, "lock")
    finally:
        await redis.aclose()


@pytest.mark.redis
async def test_a_slow_update_keeps_its_chat_locked(
    short_lock: ShortLock,
) -> None:
    """An update running three times the lock's life still holds it; the end frees it."""
    redis, isolation, key, name = short_lock
    async with asyncio.timeout(10), isolation.lock(key):
        await asyncio.sleep(1.8)  # a slow media download
        assert await redis.pttl(name) > 0
        other = redis.lock(name, timeout=5, blocking=False)
        assert not await other.acquire()  # another worker must wait for this chat
    assert await redis.exists(name) == 0
    assert not [task for task in asyncio.all_tasks() if task.get_name().startswith("renew")]


@pytest.mark.redis
async def test_a_crashed_workers_lock_frees_within_its_life(
    short_lock: ShortLock,
) -> None:
    """Nobody renews the lock of a dead worker: the chat is free again after ``timeout``."""
    redis, isolation, key, name = short_lock
    dead = redis.lock(name, timeout=0.6)  # taken by a worker that was then killed
    assert await dead.acquire(blocking=False)
    async with asyncio.timeout(3), isolation.lock(key):
        assert await redis.pttl(name) > 0


@pytest.mark.redis
async def test_an_update_that_outlived_its_lock_ends_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lock expires while the update is handled: the release logs a warning, no error."""
    storage, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(isolation, RedisEventIsolation)
    key = chat_key(7_000_000_003)
    name = isolation.key_builder.build(key, "lock")
    try:
        with caplog.at_level(logging.WARNING, logger="redis.asyncio.lock"):
            async with asyncio.timeout(5), isolation.lock(key):
                # A slow media download: the lock's 15 s ran out and Redis dropped the key.
                assert await isolation.redis.delete(name) == 1
        assert "no longer owned" in caplog.text
    finally:
        await isolation.close()
        await storage.close()


@pytest.mark.redis
async def test_a_cancelled_update_stays_cancelled_and_frees_its_chat(
    short_lock: ShortLock,
) -> None:
    """Cancelling an update (worker shutdown) is passed on, and the chat's lock is released."""
    redis, isolation, key, name = short_lock
    entered = asyncio.Event()

    async def update() -> None:
        async with isolation.lock(key):
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(update())
    await asyncio.wait_for(entered.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await redis.exists(name) == 0
