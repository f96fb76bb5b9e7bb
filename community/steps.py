"""Short transactions around messenger calls made outside the asking transaction.

Usage::

    steps = Steps(session_factory, turn)
    async with steps.tx() as session:  # committed at the end, inside the write turn if any
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

Turn = Callable[[], AbstractAsyncContextManager[None]]


class Steps:
    """Short transactions around the hub calls (each in the write turn, if any)."""

    def __init__(self, session_factory: async_sessionmaker[Any], turn: Turn | None) -> None:
        self._session_factory = session_factory
        self._turn = turn or contextlib.nullcontext

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[Any]:
        """Open a session in a transaction, committed when the block ends."""
        async with self._turn(), self._session_factory() as session, session.begin():
            yield session
