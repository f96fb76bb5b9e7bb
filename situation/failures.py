"""Keep updates whose processing failed, so a bug never loses what a citizen sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.failures import create_failed_update


class FailureRecorder:
    """Record failed updates in their own transaction (the update's own one was rolled back)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def record(self, *, update_id: int, payload: dict[str, Any], error: str) -> None:
        """Store the raw update with the error that stopped it."""
        async with self._session_factory() as session, session.begin():
            await create_failed_update(
                session=session, update_id=update_id, payload=payload, error=error[:2000]
            )
