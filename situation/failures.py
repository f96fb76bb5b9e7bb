"""Keep updates whose processing failed, so a bug never loses what a citizen sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.outgoing import Outgoing
from storage.failures import create_failed_update


class FailureRecorder:
    """Record failed updates in their own transaction (the update's own one was rolled back)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def record(
        self,
        *,
        update_id: int,
        payload: dict[str, Any],
        error: str,
        citizen_chat: int | None = None,
        lang: str = "ko",
    ) -> None:
        """Store the raw update with the error that stopped it; tell the citizen, if one sent it.

        The update's own transaction was rolled back with every reply it queued, so without
        this the citizen would hear nothing at all.
        """
        async with self._session_factory() as session, session.begin():
            await create_failed_update(
                session=session, update_id=update_id, payload=payload, error=error[:2000]
            )
            if citizen_chat is not None:
                await Outgoing(session=session, chat_id=citizen_chat, lang=lang).message(
                    "citizen_failed"
                )
