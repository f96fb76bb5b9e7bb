"""Processed update ids: a redelivered update is recognised and changes nothing.

Usage (inside the update's transaction)::

    if not await claim_update(session=session, bot_id=bot.id, update_id=update.update_id):
        return  # already processed

    claimed = await claim_update_from(
        session=session, bot_id=bot.id, update_id=update.update_id, telegram_user_id=user.id
    )  # the same, and the sender's citizen and staff rows read along
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.citizens import remember_lookup
from storage.models.base import utcnow
from storage.models.citizens import Citizen
from storage.models.staff import StaffMember
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


@dataclass(frozen=True)
class ClaimedUpdate:
    """An update's claim, and its sender's citizen and active staff rows (None: there is none)."""

    fresh: bool
    citizen: Citizen | None
    staff: StaffMember | None


@cache
def _sender_statement(dialect: str) -> Any:
    """The sender's citizen and active staff rows, built once; on PostgreSQL with the claim.

    Every update asks for both before its handler runs: one statement instead of two, and on
    PostgreSQL the claim's INSERT rides along in a CTE, so an update starts with one round trip
    instead of three. SQLite has no INSERT in a CTE: there the claim stays separate.
    """
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    user: BindParameter[int] = bindparam("telegram_user_id")
    columns: list[Any] = [Citizen, StaffMember]
    if dialect == "postgresql":
        table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
        claimed = _claim_statement(dialect).returning(table.c.update_id).cte("claimed")
        columns.insert(0, select(func.count()).select_from(claimed).scalar_subquery())
    return (
        select(*columns)
        .select_from(anchor)
        .outerjoin(Citizen, col(Citizen.telegram_user_id) == user)
        .outerjoin(
            StaffMember,
            and_(col(StaffMember.telegram_user_id) == user, col(StaffMember.active).is_(True)),
        )
    )


async def claim_update_from(
    *, session: AsyncSession, bot_id: int, update_id: int, telegram_user_id: int
) -> ClaimedUpdate:
    """Claim the update like :func:`claim_update` and read its sender's rows along.

    The citizen is remembered for :func:`storage.citizens.find_citizen` in this session.
    """
    dialect = session.get_bind().dialect.name
    params = {
        "bot_id": bot_id,
        "update_id": update_id,
        "processed_at": utcnow(),
        "telegram_user_id": telegram_user_id,
    }
    statement = _sender_statement(dialect)
    if dialect == "postgresql":
        count, citizen, staff = (await session.exec(statement, params=params)).one()
        fresh = count == 1
    else:
        fresh = await claim_update(session=session, bot_id=bot_id, update_id=update_id)
        citizen, staff = (await session.exec(statement, params=params)).one()
    remember_lookup(session, telegram_user_id, citizen)
    return ClaimedUpdate(fresh=fresh, citizen=citizen, staff=staff)


async def purge_processed(*, session: AsyncSession, before: datetime) -> int:
    """Forget update ids processed before ``before``; return how many were removed."""
    result = await session.exec(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)  # type: ignore[arg-type]
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
