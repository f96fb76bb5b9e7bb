"""Transaction-scoped named locks, for work that two workers must not do at the same time."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def hold_lock(*, session: AsyncSession, name: str) -> None:
    """Wait for the lock ``name``; it is held until the transaction ends.

    PostgreSQL uses an advisory lock. SQLite needs none: every write transaction already starts
    with ``BEGIN IMMEDIATE`` (see storage.engine), so writers take turns.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(  # type: ignore[call-overload]
            text("SELECT pg_advisory_xact_lock(hashtext(:name))").bindparams(name=name)
        )
