"""Processed update ids: a redelivered update is recognised and changes nothing.

Usage (inside the update's transaction)::

    if not await claim_update(session=session, bot_id=bot.id, update_id=update.update_id):
        return  # already processed
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.base import utcnow
from storage.models.updates import ProcessedUpdate


@cache
def _claim_statement(dialect: str) -> Insert:
    """The INSERT ... ON CONFLICT DO NOTHING of an update id, built once per dialect.

    It runs for every update: built per call, with its values inlined, its construction cost
    about as much as its execution.
    """
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # A Core insert on the table: the ORM's bulk-insert machinery has nothing to do here.
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .values(
            bot_id=bindparam("bot_id"),
            update_id=bindparam("update_id"),
            processed_at=bindparam("processed_at"),
        )
        .on_conflict_do_nothing()
    )


async def claim_update(*, session: AsyncSession, bot_id: int, update_id: int) -> bool:
    """Record the update as processed in this transaction; False if it already was."""
    statement = _claim_statement(session.get_bind().dialect.name)
    result = await session.exec(
        statement, params={"bot_id": bot_id, "update_id": update_id, "processed_at": utcnow()}
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def purge_processed(*, session: AsyncSession, before: datetime) -> int:
    """Forget update ids processed before ``before``; return how many were removed."""
    result = await session.exec(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)  # type: ignore[arg-type]
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
