"""An update that outlives its 15 s chat lock ends without an error (see ``create_fsm``)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation

from bot.app import create_fsm
from bot.settings import Settings
from tests.conftest import REDIS_URL


def test_release_errors_are_not_raised() -> None:
    """The chat lock is built not to raise when it was lost before its release."""
    _, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(isolation, RedisEventIsolation)
    assert isolation.lock_kwargs == {"timeout": 15, "raise_on_release_error": False}


@pytest.mark.redis
async def test_an_update_that_outlived_its_lock_ends_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lock expires while the update is handled: the release logs a warning, no error."""
    storage, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(isolation, RedisEventIsolation)
    user = uuid.uuid4().int % 10**9 + 10**9
    key = StorageKey(bot_id=7_000_000_003, chat_id=user, user_id=user)
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
