"""Repository of the expert registry.

Usage::

    expert = await get_expert_by_user(session=session, telegram_user_id=user_id)
    ready = await invitable_experts(session=session, fields={"fire"})
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.experts import Expert


async def save_expert(*, session: AsyncSession, expert: Expert) -> Expert:
    """Insert or update an expert and return it with its id."""
    session.add(expert)
    await session.flush()
    return expert


async def get_expert(*, session: AsyncSession, expert_id: int) -> Expert | None:
    """Return the expert with this id."""
    return await session.get(Expert, expert_id)


async def get_expert_by_user(*, session: AsyncSession, telegram_user_id: int) -> Expert | None:
    """Return the expert registered with this Telegram user id."""
    statement = select(Expert).where(col(Expert.telegram_user_id) == telegram_user_id)
    return (await session.exec(statement)).first()


async def list_experts(
    *, session: AsyncSession, verified: bool | None = None, active: bool = True
) -> Sequence[Expert]:
    """Return registered experts by name, optionally only (un)verified ones."""
    statement = select(Expert).where(col(Expert.active) == active)
    if verified is not None:
        statement = statement.where(col(Expert.verified) == verified)
    return (await session.exec(statement.order_by(col(Expert.name), col(Expert.id)))).all()


async def invitable_experts(*, session: AsyncSession, fields: Iterable[str]) -> list[Expert]:
    """Return active, verified, available experts covering at least one of ``fields``."""
    wanted = set(fields)
    statement = select(Expert).where(
        col(Expert.active).is_(True),
        col(Expert.verified).is_(True),
        col(Expert.available).is_(True),
    )
    experts = (await session.exec(statement.order_by(col(Expert.id)))).all()
    return [expert for expert in experts if expert.has_any_field(wanted)]
