"""Repository of failed updates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
    result = await session.execute(
        select(func.count()).select_from(FailedUpdate).where(FailedUpdate.resolved_at.is_(None))  # type: ignore[union-attr]
    )
    return int(result.scalar_one())
