"""The outbox: outgoing messenger actions committed with the state change that caused them.

Usage (the domain, inside the update's transaction)::

    await enqueue(session=session, message=OutboxCreate(
        chat_id=user_id, kind="text", payload={"text": "<b>접수</b>"},
        priority=Priority.CITIZEN_REPLY,
        correlation=f"report:{report.id}:ack",
    ))
    enqueue_batched(session=session, message=...)  # no id needed: written with the others

The sender (``bot.sender.Sender``) claims due rows with :func:`claim_batch`, delivers them and
records the outcome with :func:`mark_sent`, :func:`mark_failed`, :func:`reschedule` or
:func:`mark_unreachable`. :class:`OutboxSignal` wakes it as soon as a transaction that added
outbox rows commits. See ``docs/outbox.md`` for the rules and the delivery guarantee.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, event, exists, func, insert, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import engine_origin
from storage.models.outbox import UNSETTLED, OutboxCreate, OutboxMessage, OutboxStatus
from storage.wakeup import Wakeup

SIGNAL_KEY = "jikimi.outbox_signal"
NOTIFY_CHANNEL = "jikimi_outbox"
_DIRTY_KEY = "jikimi.outbox_dirty"
DEFAULT_LEASE = timedelta(seconds=120)


class OutboxSignal(Wakeup):
    """Wakes the sender when a transaction that added outbox rows commits.

    ``set()`` may be called from any thread; ``wait()`` runs on the sender's event loop.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        # The NOTIFY payload of this process's commits (its engine's origin, once attached),
        # so that its sender ignores them: the signal was set at commit already.
        self.origin = uuid.uuid4().hex

    def attach(self, session_factory: async_sessionmaker[Any]) -> None:
        """Set this signal whenever a session of ``session_factory`` commits new outbox rows."""
        info = session_factory.kw.setdefault("info", {})
        info[SIGNAL_KEY] = self
        engine = session_factory.kw.get("bind")
        if isinstance(engine, AsyncEngine) and engine_origin(engine):
            self.origin = engine_origin(engine)
        _install_session_events()

    def set(self) -> None:
        """Wake the sender (thread-safe)."""
        self.count += 1
        super().set()


_PENDING_KEY = "jikimi.outbox_pending"


@dataclass(frozen=True)
class _Pending:
    """A batched row not written yet, and the savepoint it was queued in (None: outside)."""

    values: dict[str, Any]
    savepoint: SessionTransaction | None


@lru_cache(maxsize=1)
def _insert_rows() -> Any:
    """A Core INSERT of outbox rows: no ORM objects, one executemany for a batch."""
    return insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def _write_pending(session: Session) -> None:
    pending: list[_Pending] | None = session.info.pop(_PENDING_KEY, None)
    if pending:
        session.connection().execute(_insert_rows(), [row.values for row in pending])
        _outbox_written(session)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Not inside a SAVEPOINT: rolled back, it would take rows queued before it along.
    if not session.in_nested_transaction():
        _write_pending(session)


def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        _write_pending(session)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING_KEY)
    if not pending:
        return
    if previous.parent is None:
        session.info.pop(_PENDING_KEY, None)
        return
    session.info[_PENDING_KEY] = [
        row for row in pending if not _queued_within(row.savepoint, previous)
    ]


def _queued_within(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (rows written) or rolled back (rows dropped)
        session.info.pop(_PENDING_KEY, None)


def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        _outbox_written(session)


def _outbox_written(session: Session) -> None:
    """Remember to wake this process's sender at commit.

    Other processes' senders hear of it from PostgreSQL: the outbox's insert trigger (migration
    0007) queues a NOTIFY that is delivered at commit and dropped on rollback.
    """
    session.info[_DIRTY_KEY] = True


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a released SAVEPOINT: the real commit is still to come
        return
    if session.info.pop(_DIRTY_KEY, False):
        signal = session.info.get(SIGNAL_KEY)
        if isinstance(signal, OutboxSignal):
            signal.set()


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back: the outer transaction goes on
        return
    session.info.pop(_DIRTY_KEY, None)


@cache
def _install_session_events() -> None:
    """Listen to every session's flushes and transactions, once per process."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
        ("after_soft_rollback", _after_soft_rollback),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


async def enqueue(*, session: AsyncSession, message: OutboxCreate) -> OutboxMessage:
    """Add an outbox row to the session's transaction and flush it (delivered after commit).

    The row comes back with its id. When nothing needs the id, :func:`enqueue_batched` is
    cheaper.
    """
    _install_session_events()
    row = OutboxMessage.model_validate(message)
    session.add(row)
    await session.flush()
    return row


def enqueue_batched(*, session: AsyncSession, message: OutboxCreate) -> None:
    """Queue an outbox row to be written with the transaction's other batched rows.

    The rows are written by one Core INSERT, in the order queued (so a chat's order holds),
    with the session's next flush of ORM changes outside a SAVEPOINT, at the latest at
    commit. Until then no query sees them, and they get no id; a rolled-back SAVEPOINT drops
    the rows queued inside it. An update's replies cost one statement instead of an ORM
    object each (about half the CPU of writing them).

    Like a query, queueing begins the session's transaction if none is in progress, so that
    a rollback drops the rows.
    """
    _install_session_events()
    sync = session.sync_session
    if not sync.in_transaction():
        sync.begin()
    session.info.setdefault(_PENDING_KEY, []).append(
        _Pending(message.model_dump(), sync.get_nested_transaction())
    )


def _due(table: Any, now: BindParameter[datetime]) -> Any:
    """Pending and due, or ``sending`` with an expired lease (its worker died)."""
    return or_(
        and_(table.c.status == OutboxStatus.PENDING.value, table.c.next_attempt_at <= now),
        and_(table.c.status == OutboxStatus.SENDING.value, table.c.lease_until < now),
    )


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


@lru_cache(maxsize=8)
def _claim_statement(dialect: str, excluding: bool) -> Any:
    """The claim: one UPDATE ... RETURNING of the candidates a CTE picks, built once.

    One statement instead of a SELECT of ids and then the UPDATE: the sender claims several
    times a second, and each round trip costs the worker CPU. The candidates come from an
    alias of the table (``candidate``), so that they do not correlate with the UPDATE's
    table; on PostgreSQL they are locked with SKIP LOCKED, so two senders never take the same
    row, in a MATERIALIZED CTE: as a plain subquery PostgreSQL may scan it again for each row
    it updates, and each scan then skips the rows just updated and takes the next
    ``c_limit``. The UPDATE is Core, on the table, and the ORM only loads its rows
    (``from_statement``): an ORM UPDATE is copied on every execution and its cache key,
    long for this statement, computed again. Parameters: ``c_now``, ``c_limit``,
    ``c_worker``, ``c_lease_until`` and ``c_exclude`` (with ``excluding``).
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    candidate, earlier, ref = table.alias("candidate"), table.alias("earlier"), table.alias("ref")
    now: BindParameter[datetime] = bindparam("c_now")
    no_earlier = ~exists().where(
        earlier.c.chat_id == candidate.c.chat_id,
        earlier.c.id < candidate.c.id,
        earlier.c.status.in_(UNSETTLED),
    )
    refs_settled = ~exists().where(
        ref.c.status.in_(UNSETTLED),
        ref.c.id != candidate.c.id,
        or_(
            ref.c.correlation == candidate.c.thread_ref, ref.c.correlation == candidate.c.target_ref
        ),
    )
    candidates = (
        sa_select(candidate.c.id)
        .where(_due(candidate, now), no_earlier, refs_settled)
        .order_by(candidate.c.priority, candidate.c.id)
        .limit(bindparam("c_limit"))
    )
    if excluding:
        candidates = candidates.where(
            candidate.c.chat_id.not_in(bindparam("c_exclude", expanding=True))
        )
    if dialect == "postgresql":
        locked = candidates.with_for_update(skip_locked=True, of=candidate)
        claimable = locked.cte("claimable").prefix_with("MATERIALIZED")
    else:
        claimable = candidates.cte("claimable")
    lease = (
        update(table)
        .where(table.c.id.in_(sa_select(claimable.c.id)), _due(table, now))
        .values(
            status=OutboxStatus.SENDING.value,
            lease_owner=bindparam("c_worker"),
            lease_until=bindparam("c_lease_until"),
        )
        .returning(*table.c)
    )
    # populate_existing: a row this session loaded before gets the lease's values, not stale ones.
    return select(OutboxMessage).from_statement(lease).execution_options(populate_existing=True)


async def claim_batch(
    *,
    session: AsyncSession,
    worker_id: str,
    now: datetime,
    limit: int,
    lease: timedelta = DEFAULT_LEASE,
    exclude_chats: frozenset[int] = frozenset(),
) -> list[OutboxMessage]:
    """Lease up to ``limit`` due rows to ``worker_id``: at most one per chat, its oldest unsettled.

    A row is claimable when it is pending and due, or ``sending`` with an expired lease (its
    worker died); when no older row of its chat is unsettled; and when the rows its
    ``thread_ref``/``target_ref`` name are settled. Rows come in priority order, then oldest
    first. Commit the session to make the lease visible before sending.
    """
    if limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # The claim is a prepared statement: after five runs PostgreSQL may keep a generic plan
        # made while the table was small or its statistics stale (autovacuum off or not yet
        # run), whose scans of the whole table for every candidate took seconds once a surge
        # had queued a few thousand rows. Planned for the table as it is, it uses the indexes.
        await session.exec(_CUSTOM_PLANS)  # type: ignore[call-overload]
    statement = _claim_statement(dialect, bool(exclude_chats))
    params: dict[str, Any] = {
        "c_now": now,
        "c_limit": limit,
        "c_worker": worker_id,
        "c_lease_until": now + lease,
    }
    if exclude_chats:
        params["c_exclude"] = sorted(exclude_chats)
    rows = list((await session.exec(statement, params=params)).scalars().all())
    rows.sort(key=lambda row: (row.priority, row.id or 0))
    return rows


def _leased_to(worker_id: str) -> Any:
    """Still leased to this worker: a sender whose lease expired and was claimed again by
    another must not undo what that one recorded (the row would be sent a third time)."""
    return and_(
        col(OutboxMessage.status) == OutboxStatus.SENDING.value,
        col(OutboxMessage.lease_owner) == worker_id,
    )


async def _update(session: AsyncSession, message_id: int, worker_id: str, **values: Any) -> bool:
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, _leased_to(worker_id))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_sent(
    *,
    session: AsyncSession,
    message_id: int,
    worker_id: str,
    now: datetime,
    result_message_id: int | None = None,
    result_thread_id: int | None = None,
    result: dict[str, Any] | None = None,
) -> bool:
    """Record a successful delivery and what Telegram returned; False if no longer leased to us."""
    recorded = await mark_sent_many(
        session=session,
        worker_id=worker_id,
        deliveries=[
            SentRecord(
                message_id=message_id,
                now=now,
                result_message_id=result_message_id,
                result_thread_id=result_thread_id,
                result=result,
            )
        ],
    )
    return recorded == 1


@dataclass(frozen=True)
class SentRecord:
    """One successful delivery to record with :func:`mark_sent_many`."""

    message_id: int
    now: datetime
    result_message_id: int | None = None
    result_thread_id: int | None = None
    result: dict[str, Any] | None = None


@cache
def _mark_sent_statement() -> Any:
    """The UPDATE recording a delivery, built once (the sender runs it for every message).

    Core rather than the ORM's bulk UPDATE by primary key: a row purged meanwhile, or no
    longer leased to this worker, is skipped instead of failing the batch (StaleDataError on
    SQLite).
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.status == OutboxStatus.SENDING.value,
            table.c.lease_owner == bindparam("b_worker"),
        )
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=bindparam("b_sent_at"),
            lease_owner=None,
            lease_until=None,
            result_message_id=bindparam("b_result_message_id"),
            result_thread_id=bindparam("b_result_thread_id"),
            result=bindparam("b_result", type_=table.c.result.type),
        )
    )


@cache
def _leased_rows_statement() -> Any:
    """SELECT ... FOR UPDATE of the rows of ``l_ids`` still leased to ``l_worker``, by id."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return (
        sa_select(table.c.id)
        .where(
            table.c.id.in_(bindparam("l_ids", expanding=True)),
            table.c.status == OutboxStatus.SENDING.value,
            table.c.lease_owner == bindparam("l_worker"),
        )
        .order_by(table.c.id)
        .with_for_update()
    )


async def mark_sent_many(
    *, session: AsyncSession, worker_id: str, deliveries: Sequence[SentRecord]
) -> int:
    """Record several successful deliveries in one statement (what :func:`mark_sent` does).

    Only rows still leased to ``worker_id`` are recorded. Returns how many were, on every
    database: asyncpg reports no row count for a batch of several, so on PostgreSQL the rows
    still leased to ``worker_id`` are first locked and counted (one more round trip, only for
    a batch of several); locked, none of them can change hands before the UPDATE.
    """
    if not deliveries:
        return 0
    connection = await session.connection()
    leased: int | None = None
    if len(deliveries) > 1 and connection.dialect.name == "postgresql":
        found = await connection.execute(
            _leased_rows_statement(),
            {"l_ids": [one.message_id for one in deliveries], "l_worker": worker_id},
        )
        leased = len(found.all())
    params = [
        {
            "b_id": one.message_id,
            "b_worker": worker_id,
            "b_sent_at": one.now,
            "b_result_message_id": one.result_message_id,
            "b_result_thread_id": one.result_thread_id,
            "b_result": one.result,
        }
        for one in deliveries
    ]
    result = await connection.execute(
        _mark_sent_statement(), params if len(params) > 1 else params[0]
    )
    if leased is not None:
        return leased
    return int(result.rowcount)


async def mark_failed(
    *, session: AsyncSession, message_id: int, worker_id: str, error: str, now: datetime
) -> bool:
    """Record a terminal failure and its reason (never retried); False if no longer ours."""
    return await _update(
        session,
        message_id,
        worker_id,
        status=OutboxStatus.FAILED.value,
        last_error=error,
        lease_owner=None,
        lease_until=None,
        sent_at=None,
        next_attempt_at=now,
    )


async def mark_unreachable(
    *, session: AsyncSession, message_id: int, worker_id: str, error: str, now: datetime
) -> bool:
    """Record that the recipient refused the message (403); False if no longer ours."""
    return await _update(
        session,
        message_id,
        worker_id,
        status=OutboxStatus.UNREACHABLE.value,
        last_error=error,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=now,
    )


async def reschedule(
    *,
    session: AsyncSession,
    message_id: int,
    worker_id: str,
    at: datetime,
    error: str,
    count_attempt: bool = True,
) -> bool:
    """Put the row back to pending until ``at`` (its chat waits with it); False if not ours."""
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING.value,
        "next_attempt_at": at,
        "last_error": error,
        "lease_owner": None,
        "lease_until": None,
    }
    if count_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    return await _update(session, message_id, worker_id, **values)


async def cancel(*, session: AsyncSession, correlation: str, reason: str) -> bool:
    """Cancel a pending row by correlation; False if it is no longer pending."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.correlation) == correlation,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error=f"cancelled: {reason}")
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def find(*, session: AsyncSession, correlation: str) -> OutboxMessage | None:
    """Return the row with this correlation, whatever its status."""
    statement = select(OutboxMessage).where(col(OutboxMessage.correlation) == correlation)
    return (await session.exec(statement)).first()


async def find_many(
    *, session: AsyncSession, correlations: Collection[str]
) -> dict[str, OutboxMessage]:
    """Return the rows with these correlations, whatever their status, by correlation."""
    if not correlations:
        return {}
    rows = await session.exec(_by_correlations(), params={"correlations": sorted(correlations)})
    return {row.correlation: row for row in rows.all() if row.correlation is not None}


@lru_cache(maxsize=1)
def _by_correlations() -> Any:
    """Asked with most claims of staff-room rows: the statement is built once."""
    return select(OutboxMessage).where(
        col(OutboxMessage.correlation).in_(bindparam("correlations", expanding=True))
    )


async def find_sent(*, session: AsyncSession, correlation: str) -> OutboxMessage | None:
    """Return the row with this correlation once it was sent (its result ids are set), else None."""
    statement = select(OutboxMessage).where(
        col(OutboxMessage.correlation) == correlation,
        col(OutboxMessage.status) == OutboxStatus.SENT,
    )
    return (await session.exec(statement)).first()


async def get(*, session: AsyncSession, message_id: int) -> OutboxMessage | None:
    """Return one row by id, freshly loaded."""
    return await session.get(OutboxMessage, message_id, populate_existing=True)


@dataclass(frozen=True)
class OutboxDepth:
    """How much is waiting: unsettled rows, and the age of the oldest one in seconds."""

    pending: int
    sending: int
    oldest_age_seconds: float


async def depth_and_age(*, session: AsyncSession, now: datetime) -> OutboxDepth:
    """Count unsettled rows and measure the age of the oldest (for metrics)."""
    statement = (
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(col(OutboxMessage.status).in_(UNSETTLED))
        .group_by(OutboxMessage.status)
    )
    counts = {OutboxStatus.PENDING.value: 0, OutboxStatus.SENDING.value: 0}
    oldest: datetime | None = None
    for status, count, created in (await session.exec(statement)).all():
        counts[status] = count
        if created is not None:
            oldest = created if oldest is None else min(oldest, created)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxDepth(
        pending=counts[OutboxStatus.PENDING.value],
        sending=counts[OutboxStatus.SENDING.value],
        oldest_age_seconds=age,
    )


async def purge_settled(*, session: AsyncSession, before: datetime) -> int:
    """Delete settled rows created before ``before`` that no correlation can name again.

    Rows with a correlation are kept: later edits, pins and topic posts find them by it.
    """
    result = await session.exec(
        delete(OutboxMessage)
        .where(
            col(OutboxMessage.status).not_in(UNSETTLED),
            col(OutboxMessage.correlation).is_(None),
            col(OutboxMessage.created_at) < before,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def pending_count(*, session: AsyncSession, chat_id: int | None = None) -> int:
    """Count the rows not settled yet (pending or sending), all or those of ``chat_id``."""
    statement = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.status).in_(UNSETTLED))
    )
    if chat_id is not None:
        statement = statement.where(col(OutboxMessage.chat_id) == chat_id)
    return int((await session.exec(statement)).one())


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    """When the earliest pending row becomes due (None when nothing is pending)."""
    statement = select(func.min(OutboxMessage.next_attempt_at)).where(
        col(OutboxMessage.status) == OutboxStatus.PENDING
    )
    value = (await session.exec(statement)).first()
    return value
