"""The per-chat Redis lock of several workers, renewed for as long as its update runs.

aiogram's ``RedisEventIsolation`` takes a lock with a fixed lifetime around each update, so two
workers never handle one chat at the same time. The lifetime has to be short, so that a
crashed worker's chats free quickly, yet an update may take long: a photo download runs under
the lock for up to a minute (``bot.media``). Here the lock lives ``timeout`` seconds and the
worker that holds it renews it every third of that while the update runs: a crashed worker's
lock frees within ``timeout``, a slow update keeps its chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

LOCK_SECONDS = 15


class RenewedChatLock(RedisEventIsolation):
    """aiogram's Redis event isolation with a lock renewed while its update runs."""

    def __init__(
        self, redis: Redis, key_builder: DefaultKeyBuilder, *, timeout: float = LOCK_SECONDS
    ) -> None:
        # raise_on_release_error=False (redis-py >= 6.0): a lock lost all the same (Redis
        # restarted, renewal failed) is logged by redis-py at release, not raised: by then the
        # update's transaction has committed and it must not be reported as failed.
        super().__init__(
            redis=redis,
            key_builder=key_builder,
            lock_kwargs={"timeout": timeout, "raise_on_release_error": False},
        )
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        """Hold the chat's lock while the update runs, renewing it every third of its life."""
        name = self.key_builder.build(key, "lock")
        lock: Lock = self.redis.lock(name=name, lock_class=Lock, **self.lock_kwargs)
        async with lock:
            renewal = asyncio.create_task(self._renew(lock), name=f"renew {name}")
            try:
                yield None
            finally:
                renewal.cancel()
                try:
                    await renewal
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # this update itself is being cancelled: pass that on

    async def _renew(self, lock: Lock) -> None:
        """Reset the lock's lifetime until cancelled; stop (and say so) once it is lost."""
        while True:
            await asyncio.sleep(self.timeout / 3)
            try:
                await lock.reacquire()
            except LockError as error:  # expired and maybe taken: nothing left to renew
                log.warning("chat lock %s was lost: %s", lock.name, error)
                return
            except RedisError as error:  # Redis briefly unreachable: try again next time
                log.warning("chat lock %s could not be renewed: %s", lock.name, error)
