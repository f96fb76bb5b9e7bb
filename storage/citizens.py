"""Repository of citizens."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.citizens import Citizen


async def get_citizen(*, session: AsyncSession, citizen_id: int) -> Citizen | None:
    """Return the citizen with this id."""
    return await session.get(Citizen, citizen_id)


async def find_citizen(*, session: AsyncSession, telegram_user_id: int) -> Citizen | None:
    """Return the (not forgotten) citizen with this Telegram user id."""
    result = await session.exec(
        select(Citizen).where(col(Citizen.telegram_user_id) == telegram_user_id)
    )
    return result.one_or_none()


async def get_or_create_citizen(
    *, session: AsyncSession, telegram_user_id: int, now: datetime
) -> tuple[Citizen, bool]:
    """Return the citizen with this Telegram user id, creating one; ``True`` when created."""
    citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
    if citizen is not None:
        return citizen, False
    citizen = Citizen(telegram_user_id=telegram_user_id, created_at=now, last_seen_at=now)
    session.add(citizen)
    await session.flush()
    return citizen, True


async def save_citizen(*, session: AsyncSession, citizen: Citizen) -> Citizen:
    """Write a changed citizen."""
    session.add(citizen)
    await session.flush()
    return citizen
