"""Lease outbox rows to a test "sender", as a claim would, so its results can be recorded."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.outbox import OutboxMessage, OutboxStatus

TEST_WORKER = "test-sender"


async def lease(session: AsyncSession, *message_ids: int, worker: str = TEST_WORKER) -> None:
    """Mark the rows ``sending`` and leased to ``worker`` (whatever the claim's order rules)."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids))
        .values(status=OutboxStatus.SENDING.value, lease_owner=worker)
        .execution_options(synchronize_session=False)
    )
