"""Repository of citizens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.citizens import Citizen


async def get_citizen(*, session: AsyncSession, citizen_id: int) -> Citizen | None:
    """Return the citizen with this id."""
    return await session.get(Citizen, citizen_id)


_KNOWN_KEY = "jikimi.citizens_by_user"


def _remember(session: AsyncSession, citizen: Citizen) -> None:
    if citizen.telegram_user_id is not None:
        session.info.setdefault(_KNOWN_KEY, {})[citizen.telegram_user_id] = citizen


def _known(session: AsyncSession, telegram_user_id: int) -> Citizen | None:
    """The citizen this session already loaded for the user, if it is still live and fresh."""
    citizen = session.info.get(_KNOWN_KEY, {}).get(telegram_user_id)
    if citizen is None or citizen not in session:
        return None
    state = inspect(citizen)
    if state.deleted or state.was_deleted or state.expired_attributes:
        return None
    if citizen.telegram_user_id != telegram_user_id:
        return None
    return citizen


async def find_citizen(*, session: AsyncSession, telegram_user_id: int) -> Citizen | None:
    """Return the (not forgotten) citizen with this Telegram user id.

    An update asks several times (language middleware, then the handler): the row loaded
    earlier in the same session is reused instead of selected again.
    """
    known = _known(session, telegram_user_id)
    if known is not None:
        return known
    result = await session.exec(
        select(Citizen).where(col(Citizen.telegram_user_id) == telegram_user_id)
    )
    citizen = result.one_or_none()
    if citizen is not None:
        _remember(session, citizen)
    return citizen


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
    _remember(session, citizen)
    return citizen, True


async def save_citizen(*, session: AsyncSession, citizen: Citizen) -> Citizen:
    """Write a changed citizen."""
    session.add(citizen)
    await session.flush()
    return citizen
