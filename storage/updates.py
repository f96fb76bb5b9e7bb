"""Processed update ids: a redelivered update is recognised and changes nothing.

Usage (inside the update's transaction)::

    if not await claim_update(session=session, bot_id=bot.id, update_id=update.update_id):
        return  # already processed
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.base import utcnow
from storage.models.updates import ProcessedUpdate


async def claim_update(*, session: AsyncSession, bot_id: int, update_id: int) -> bool:
    """Record the update as processed in this transaction; False if it already was."""
    values = {"bot_id": bot_id, "update_id": update_id, "processed_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ProcessedUpdate).values(**values).on_conflict_do_nothing()
    result = await session.exec(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def purge_processed(*, session: AsyncSession, before: datetime) -> int:
    """Forget update ids processed before ``before``; return how many were removed."""
    result = await session.exec(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)  # type: ignore[arg-type]
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
