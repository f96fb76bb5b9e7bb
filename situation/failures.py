"""Keep updates that failed or could not be read, so nothing a citizen sent is lost."""

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


async def keep_unreadable_update(
    *,
    session: AsyncSession,
    update_id: int,
    payload: dict[str, Any],
    problem: str,
    reply_chat_id: int | None,
    lang: str,
) -> None:
    """Keep an update the messenger layer could not read; ask its writer to send it differently.

    ``reply_chat_id``: the private chat it came from, when that could be told (the answer is
    the one any message that cannot be used for a report gets).
    """
    await create_failed_update(
        session=session, update_id=update_id, payload=payload, error=f"unreadable: {problem}"[:2000]
    )
    if reply_chat_id is not None:
        out = Outgoing(session=session, chat_id=reply_chat_id, lang=lang)
        await out.message("citizen_unsupported")
