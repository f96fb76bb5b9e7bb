"""Repository of failed updates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.failures import FailedUpdate


async def create_failed_update(
    *, session: AsyncSession, update_id: int, payload: dict[str, Any], error: str
) -> FailedUpdate:
    """Keep a failed update."""
    row = FailedUpdate(update_id=update_id, payload=payload, error=error)
    session.add(row)
    await session.flush()
    return row


async def count_unresolved(*, session: AsyncSession) -> int:
    """Count failed updates nobody has looked at yet."""
    statement = select(func.count()).select_from(FailedUpdate)
    result = await session.exec(statement.where(col(FailedUpdate.resolved_at).is_(None)))
    return int(result.one())
