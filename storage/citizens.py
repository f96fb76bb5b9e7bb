"""Repository of citizens."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, inspect, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models.citizens import Citizen
from storage.models.commands import CommandMessage

SEEN_RESOLUTION = timedelta(minutes=5)
"""How old ``last_seen_at`` may grow before an update writes it again (not on every message:
a surge would rewrite the row each time)."""


async def get_citizen(*, session: AsyncSession, citizen_id: int) -> Citizen | None:
    """Return the citizen with this id."""
    return await session.get(Citizen, citizen_id)


_KNOWN_KEY = "jikimi.citizens_by_user"


_ABSENT_KEY = "jikimi.users_without_citizen"


def _remember(session: AsyncSession, citizen: Citizen) -> None:
    if citizen.telegram_user_id is not None:
        session.info.setdefault(_KNOWN_KEY, {})[citizen.telegram_user_id] = citizen
        session.info.get(_ABSENT_KEY, set()).discard(citizen.telegram_user_id)


def remember_lookup(session: AsyncSession, telegram_user_id: int, citizen: Citizen | None) -> None:
    """Record what a query that also read the user's citizen row found (it may be None).

    :func:`find_citizen` answers from it in this session instead of selecting again.
    """
    if citizen is None:
        session.info.setdefault(_ABSENT_KEY, set()).add(telegram_user_id)
    else:
        _remember(session, citizen)


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


@cache
def _by_user() -> SelectOfScalar[Citizen]:
    """The citizen of a Telegram user: asked on every update, so the statement is built once."""
    return select(Citizen).where(col(Citizen.telegram_user_id) == bindparam("telegram_user_id"))


async def find_citizen(*, session: AsyncSession, telegram_user_id: int) -> Citizen | None:
    """Return the (not forgotten) citizen with this Telegram user id.

    An update asks several times (language middleware, then the handler): the row loaded
    earlier in the same session is reused instead of selected again, and so is the answer
    that there is none (citizens are only created through :func:`get_or_create_citizen`).
    """
    known = _known(session, telegram_user_id)
    if known is not None:
        return known
    if telegram_user_id in session.info.get(_ABSENT_KEY, ()):
        return None
    result = await session.exec(_by_user(), params={"telegram_user_id": telegram_user_id})
    citizen = result.one_or_none()
    remember_lookup(session, telegram_user_id, citizen)
    return citizen


async def _still_known(session: AsyncSession, citizen: Citizen, now: datetime) -> bool:
    """Record the citizen's activity at ``now``; False if they were anonymised since read.

    The retention purge anonymises citizens quiet for longer than the retention period, and
    asks again in its update, so a citizen whose activity is written first stays known (on
    PostgreSQL it waits for this row). The other way round, this update read the row before
    the purge committed: the write then finds the Telegram id gone.
    """
    if citizen.last_seen_at is not None and now - citizen.last_seen_at < SEEN_RESOLUTION:
        return True  # active minutes ago: not quiet, the purge leaves the row alone
    table = Citizen.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == citizen.id, table.c.telegram_user_id == citizen.telegram_user_id)
        .values(last_seen_at=now)
    )
    result = await (await session.connection()).execute(statement)
    assert isinstance(result, CursorResult)
    if result.rowcount == 1:
        set_committed_value(citizen, "last_seen_at", now)
        return True
    await session.refresh(citizen)  # anonymised: the stale copy must not answer again
    return False


async def get_or_create_citizen(
    *, session: AsyncSession, telegram_user_id: int, now: datetime, language: str | None = None
) -> tuple[Citizen, bool]:
    """Return the citizen with this Telegram user id, active at ``now``; ``True`` when created.

    Every citizen update comes here, so ``last_seen_at`` tells when the citizen was last active
    (the retention purge anonymises those quiet for longer than the retention period). One the
    purge anonymised while this update ran starts afresh as a new citizen. A new citizen is
    created with ``language`` (remembered, not chosen), saving an UPDATE right after.
    """
    citizen = await find_citizen(session=session, telegram_user_id=telegram_user_id)
    if citizen is not None and await _still_known(session, citizen, now):
        return citizen, False
    citizen = Citizen(
        telegram_user_id=telegram_user_id, language=language, created_at=now, last_seen_at=now
    )
    session.add(citizen)
    await session.flush()
    _remember(session, citizen)
    return citizen, True


async def save_citizen(*, session: AsyncSession, citizen: Citizen) -> Citizen:
    """Write a changed citizen."""
    session.add(citizen)
    await session.flush()
    return citizen


async def remember_command_message(
    *, session: AsyncSession, citizen_id: int, message_id: int, now: datetime
) -> None:
    """Record that the citizen's message ``message_id`` was a command (its edits file nothing)."""
    if await session.get(CommandMessage, (citizen_id, message_id)) is None:
        session.add(CommandMessage(citizen_id=citizen_id, message_id=message_id, created_at=now))


async def was_command_message(*, session: AsyncSession, citizen_id: int, message_id: int) -> bool:
    """Whether the citizen's message ``message_id`` was a command."""
    return await session.get(CommandMessage, (citizen_id, message_id)) is not None


async def forget_command_messages(*, session: AsyncSession, citizen_id: int) -> None:
    """Delete the records of the citizen's command messages (on /forget)."""
    await session.exec(delete(CommandMessage).where(col(CommandMessage.citizen_id) == citizen_id))
