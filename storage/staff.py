"""Repository of situation-room staff members.

Usage::

    member = await upsert_staff(session=session, telegram_user_id=42, name="정하은", role="staff",
                                now=now)
    await get_staff(session=session, telegram_user_id=42)       # None once removed
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models.staff import StaffMember, StaffRole


async def get_staff(
    *, session: AsyncSession, telegram_user_id: int, include_inactive: bool = False
) -> StaffMember | None:
    """Return the staff member with this Telegram user id (active ones only by default)."""
    statement = _staff_by_user(include_inactive)
    return (
        await session.exec(statement, params={"telegram_user_id": telegram_user_id})
    ).one_or_none()


@cache
def _staff_by_user(include_inactive: bool) -> SelectOfScalar[StaffMember]:
    """The staff member of a Telegram user: asked on every update, so built once."""
    statement = select(StaffMember).where(
        col(StaffMember.telegram_user_id) == bindparam("telegram_user_id")
    )
    if not include_inactive:
        statement = statement.where(col(StaffMember.active).is_(True))
    return statement


async def upsert_staff(
    *,
    session: AsyncSession,
    telegram_user_id: int,
    name: str,
    role: str,
    now: datetime,
    team: str | None = None,
) -> StaffMember:
    """Register a member or update (and reactivate) an existing one."""
    if role not in StaffRole.ALL:
        raise ValueError(f"unknown role {role!r}")
    member = await get_staff(
        session=session, telegram_user_id=telegram_user_id, include_inactive=True
    )
    if member is None:
        member = StaffMember(
            telegram_user_id=telegram_user_id, name=name, role=role, team=team, created_at=now
        )
    member.name, member.role, member.active, member.updated_at = name, role, True, now
    if team is not None:
        member.team = team
    session.add(member)
    await session.flush()
    return member


async def deactivate_staff(*, session: AsyncSession, telegram_user_id: int, now: datetime) -> bool:
    """Remove a member's rights (the row stays for the audit trail); False if unknown."""
    member = await get_staff(session=session, telegram_user_id=telegram_user_id)
    if member is None:
        return False
    member.active = False
    member.updated_at = now
    session.add(member)
    await session.flush()
    return True


async def list_staff(
    *, session: AsyncSession, role: str | None = None, team: str | None = None
) -> Sequence[StaffMember]:
    """Return active staff, optionally of one role or team, by name."""
    statement = select(StaffMember).where(col(StaffMember.active).is_(True))
    if role is not None:
        statement = statement.where(col(StaffMember.role) == role)
    if team is not None:
        statement = statement.where(col(StaffMember.team) == team)
    return (await session.exec(statement.order_by(col(StaffMember.name)))).all()


async def staff_names(*, session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    """Return the names of the given staff (removed ones included) by Telegram user id."""
    if not user_ids:
        return {}
    statement = select(StaffMember).where(col(StaffMember.telegram_user_id).in_(list(user_ids)))
    rows = (await session.exec(statement)).all()
    return {row.telegram_user_id: row.name for row in rows}
