"""The outbox repository: claims, leases, per-chat order, priorities, references, the signal."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import migrate
from storage import outbox as repo
from storage.engine import (
    create_engine,
    create_session_factory,
    engine_origin,
    split_search_path,
)
from storage.models.base import utcnow
from storage.models.outbox import (
    OutboxCreate,
    OutboxError,
    OutboxMessage,
    Priority,
    error_code,
)
from storage.outbox import OutboxSignal

Factory = async_sessionmaker[AsyncSession]


def text(
    chat_id: int, label: str, priority: int = Priority.STAFF_NOTICE, **extra: object
) -> OutboxCreate:
    return OutboxCreate(
        chat_id=chat_id, kind="text", payload={"text": label}, priority=priority, **extra
    )


async def add(factory: Factory, *messages: OutboxCreate) -> list[int]:
    ids = []
    async with factory() as session, session.begin():
        for message in messages:
            row = await repo.enqueue(session=session, message=message)
            assert row.id is not None
            ids.append(row.id)
    return ids


async def claim(
    factory: Factory, now: datetime, worker: str = "w1", limit: int = 10
) -> list[OutboxMessage]:
    async with factory() as session, session.begin():
        return await repo.claim_batch(session=session, worker_id=worker, now=now, limit=limit)


async def settle(factory: Factory, row_id: int, now: datetime, message_id: int = 1) -> None:
    async with factory() as session, session.begin():
        await repo.mark_sent(
            session=session,
            worker_id="w1",
            message_id=row_id,
            now=now,
            result_message_id=message_id,
        )


async def load(factory: Factory, row_id: int) -> OutboxMessage:
    async with factory() as session:
        row = await repo.get(session=session, message_id=row_id)
    assert row is not None
    return row


def labels(rows: list[OutboxMessage]) -> list[str]:
    return [row.payload["text"] for row in rows]


def test_unknown_kind_and_priority_are_refused() -> None:
    """Only the documented kinds and priorities are accepted."""
    with pytest.raises(ValueError, match="unknown outbox kind"):
        OutboxCreate(chat_id=1, kind="sticker")
    with pytest.raises(ValueError, match="priority"):
        OutboxCreate(chat_id=1, kind="text", priority=5)


async def test_claims_heads_of_chats_in_priority_order(session_factory: Factory) -> None:
    """One row per chat (its oldest): manuals first, then citizen replies, bulk last."""
    await add(
        session_factory,
        text(1, "bulk-1", priority=Priority.BULK),
        text(1, "bulk-2", priority=Priority.BULK),
        text(2, "staff", priority=Priority.STAFF_NOTICE),
        text(3, "reply", priority=Priority.CITIZEN_REPLY),
        text(4, "bulk-other", priority=Priority.BULK),
        text(5, "manual", priority=Priority.GUIDANCE),
    )
    rows = await claim(session_factory, utcnow())
    assert labels(rows) == ["manual", "reply", "staff", "bulk-1", "bulk-other"]
    assert {row.status for row in rows} == {"sending"}
    assert {row.lease_owner for row in rows} == {"w1"}
    assert await claim(session_factory, utcnow()) == []


async def test_a_claim_refreshes_rows_the_session_loaded_before(session_factory: Factory) -> None:
    """A row already in the session comes back with the lease's values, not the stale ones."""
    (row_id,) = await add(session_factory, text(1, "loaded first"))
    async with session_factory() as session, session.begin():
        loaded = await repo.get(session=session, message_id=row_id)
        assert loaded is not None and loaded.status == "pending"
        (claimed,) = await repo.claim_batch(session=session, worker_id="w1", now=utcnow(), limit=5)
    assert claimed is loaded
    assert (claimed.status, claimed.lease_owner) == ("sending", "w1")


async def test_next_row_of_a_chat_waits_until_the_previous_is_settled(
    session_factory: Factory,
) -> None:
    """Message N+1 of a chat is claimed only after N is sent or failed."""
    first, second, third = await add(
        session_factory, text(9, "one"), text(9, "two"), text(9, "three")
    )
    now = utcnow()
    assert [row.id for row in await claim(session_factory, now)] == [first]
    await settle(session_factory, first, now)
    assert [row.id for row in await claim(session_factory, now)] == [second]
    async with session_factory() as session, session.begin():
        await repo.mark_failed(
            session=session, worker_id="w1", message_id=second, error="bad_request: x", now=now
        )
    assert [row.id for row in await claim(session_factory, now)] == [third]


async def test_priority_does_not_reorder_within_a_chat(session_factory: Factory) -> None:
    """A later urgent row to the same chat still waits for the earlier bulk row."""
    bulk, urgent = await add(
        session_factory,
        text(5, "bulk", priority=Priority.BULK),
        text(5, "urgent", Priority.GUIDANCE),
    )
    now = utcnow()
    assert [row.id for row in await claim(session_factory, now)] == [bulk]
    await settle(session_factory, bulk, now)
    assert [row.id for row in await claim(session_factory, now)] == [urgent]


async def test_expired_lease_is_claimed_again(session_factory: Factory) -> None:
    """A crashed worker's row is re-claimed by another worker once its lease runs out."""
    (row_id,) = await add(session_factory, text(1, "hello"))
    now = utcnow()
    assert len(await claim(session_factory, now, worker="dead")) == 1
    assert await claim(session_factory, now + timedelta(seconds=60), worker="alive") == []
    later = now + repo.DEFAULT_LEASE + timedelta(seconds=1)
    (again,) = await claim(session_factory, later, worker="alive")
    assert (again.id, again.lease_owner) == (row_id, "alive")


async def test_rescheduled_row_waits_and_holds_its_chat(session_factory: Factory) -> None:
    """A rescheduled row is not due before its time, and its chat's next row waits too."""
    first, second = await add(session_factory, text(1, "a"), text(1, "b"))
    now = utcnow()
    await claim(session_factory, now)
    async with session_factory() as session, session.begin():
        await repo.reschedule(
            session=session,
            worker_id="w1",
            message_id=first,
            at=now + timedelta(seconds=30),
            error="rate_limited: retry after 30s",
            count_attempt=False,
        )
    assert await claim(session_factory, now + timedelta(seconds=29)) == []
    (row,) = await claim(session_factory, now + timedelta(seconds=31))
    assert (row.id, row.attempts) == (first, 0)
    async with session_factory() as session, session.begin():
        await repo.reschedule(
            session=session, worker_id="w1", message_id=first, at=now, error="network: x"
        )
    assert (await load(session_factory, first)).attempts == 1
    waiting = await load(session_factory, second)
    async with session_factory() as session:
        assert await repo.next_due_at(session=session) == waiting.next_attempt_at


async def test_referencing_row_waits_for_its_reference(session_factory: Factory) -> None:
    """A row whose thread_ref names an unsent row is not claimed until that row is settled."""
    topic_id, post_id = await add(
        session_factory,
        OutboxCreate(
            chat_id=-100, kind="create_topic", payload={"name": "t"}, correlation="incident:1:topic"
        ),
        OutboxCreate(chat_id=77, kind="text", payload={"text": "x"}, thread_ref="incident:1:topic"),
    )
    now = utcnow()
    assert [row.id for row in await claim(session_factory, now)] == [topic_id]
    assert await claim(session_factory, now) == []
    async with session_factory() as session, session.begin():
        await repo.mark_sent(
            session=session, worker_id="w1", message_id=topic_id, now=now, result_thread_id=5
        )
    assert [row.id for row in await claim(session_factory, now)] == [post_id]


async def test_find_sent_cancel_and_depth(session_factory: Factory) -> None:
    """find_sent only sees sent rows; cancel stops a pending row; depth counts what waits."""
    card, later = await add(
        session_factory,
        text(1, "card", correlation="incident:7:card"),
        text(2, "later", correlation="incident:7:later"),
    )
    oldest = (await load(session_factory, card)).created_at
    async with session_factory() as session:
        assert await repo.find_sent(session=session, correlation="incident:7:card") is None
        depth = await repo.depth_and_age(session=session, now=oldest + timedelta(seconds=10))
    assert (depth.pending, depth.sending) == (2, 0)
    assert depth.oldest_age_seconds == pytest.approx(10)
    async with session_factory() as session:
        assert await repo.pending_count(session=session) == 2
    await claim(session_factory, utcnow(), limit=1)
    await settle(session_factory, card, utcnow(), message_id=555)
    async with session_factory() as session, session.begin():
        sent = await repo.find_sent(session=session, correlation="incident:7:card")
        assert sent is not None and sent.result_message_id == 555
        assert await repo.cancel(session=session, correlation="incident:7:later", reason="merged")
        assert not await repo.cancel(session=session, correlation="incident:7:card", reason="x")
    cancelled = await load(session_factory, later)
    assert cancelled.status == "cancelled"
    assert cancelled.last_error == "cancelled: merged"
    async with session_factory() as session:
        depth = await repo.depth_and_age(session=session, now=utcnow())
        assert await repo.pending_count(session=session) == 0
    assert (depth.pending, depth.sending, depth.oldest_age_seconds) == (0, 0, 0.0)


async def test_correlation_is_unique(session_factory: Factory) -> None:
    """Two rows cannot share a correlation."""
    from sqlalchemy.exc import IntegrityError

    await add(session_factory, text(1, "a", correlation="same"))
    with pytest.raises(IntegrityError):
        await add(session_factory, text(2, "b", correlation="same"))


def test_error_codes_are_parsed() -> None:
    """The code before the colon of last_error is recognised."""
    assert error_code("topic_closed: Bad Request: TOPIC_CLOSED") is OutboxError.TOPIC_CLOSED
    assert error_code("whatever") is None
    assert error_code(None) is None


async def test_signal_is_set_when_outbox_rows_commit(session_factory: Factory) -> None:
    """Committing outbox rows wakes the signal; other commits and rollbacks do not."""
    signal = OutboxSignal()
    signal.attach(session_factory)
    async with session_factory() as session, session.begin():
        from storage.models.chats import ChatState

        session.add(ChatState(chat_id=1))
    assert signal.count == 0
    async with session_factory() as session:
        await repo.enqueue(session=session, message=text(1, "rolled back"))
        await session.rollback()
    assert signal.count == 0
    async with session_factory() as session:
        await repo.enqueue(session=session, message=text(1, "kept"))
        assert signal.count == 0  # not before the commit
        await session.commit()
    assert signal.count == 1
    assert await signal.wait(timeout=0)
    assert not signal.is_set()


@pytest.mark.postgres
async def test_notify_names_the_engine_that_committed(postgres_url: str) -> None:
    """The outbox trigger notifies once per transaction with the inserting engine's origin.

    Connections of other clients have no origin: their notification carries ''.
    """
    await migrate.upgrade(postgres_url)
    engine = create_engine(postgres_url)
    listener = await (await engine.connect()).get_raw_connection()
    payloads: asyncio.Queue[str] = asyncio.Queue()
    driver = listener.driver_connection
    assert driver is not None

    def heard(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        payloads.put_nowait(payload)

    await driver.add_listener(repo.NOTIFY_CHANNEL, heard)
    url, schema = split_search_path(postgres_url)
    other_client = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False),
        server_settings={"search_path": schema or "public"},
    )
    try:
        factory = create_session_factory(engine)
        signal = OutboxSignal()
        signal.attach(factory)
        second = create_engine(postgres_url)
        assert signal.origin == engine_origin(engine) != engine_origin(second)
        await second.dispose()
        async with factory() as session, session.begin():
            await repo.enqueue(session=session, message=text(1, "first"))
            repo.enqueue_batched(session=session, message=text(1, "second"))
        assert await asyncio.wait_for(payloads.get(), timeout=10) == signal.origin
        await other_client.execute(
            "INSERT INTO outbox (chat_id, kind, payload, priority, status, attempts,"
            " next_attempt_at, created_at) VALUES (1, 'text', '{}', 1, 'pending', 0, now(), now())"
        )
        assert await asyncio.wait_for(payloads.get(), timeout=10) == ""
        async with factory() as session:
            await repo.enqueue(session=session, message=text(1, "rolled back"))
            await session.rollback()
        await asyncio.sleep(0.2)
        assert payloads.empty()  # one notification per transaction, none for a rollback
    finally:
        await other_client.close()
        await driver.remove_listener(repo.NOTIFY_CHANNEL, heard)
        listener.close()
        await engine.dispose()


async def test_signal_wakes_a_waiter_from_another_thread() -> None:
    """set() from a foreign thread wakes a coroutine waiting on the loop."""
    signal = OutboxSignal()
    waiter = asyncio.create_task(signal.wait())
    await asyncio.sleep(0)
    thread = threading.Thread(target=signal.set)
    thread.start()
    thread.join()
    assert await asyncio.wait_for(waiter, timeout=10)


async def test_signal_wait_times_out_unset() -> None:
    """Without a set() the wait ends at its timeout and reports False."""
    assert not await OutboxSignal().wait(timeout=0.01)


@pytest.mark.postgres
async def test_concurrent_claimers_never_share_a_row(postgres_url: str) -> None:
    """Two workers claiming at once on PostgreSQL (SKIP LOCKED) get disjoint rows."""
    await migrate.upgrade(postgres_url)
    engine_a, engine_b = create_engine(postgres_url), create_engine(postgres_url)
    factory_a, factory_b = create_session_factory(engine_a), create_session_factory(engine_b)
    try:
        ids = await add(factory_a, *(text(chat, f"m{chat}") for chat in range(1, 41)))
        now = utcnow()
        # Both transactions stay open at the same time: B must skip A's locked rows, not wait.
        async with factory_a() as session_a, factory_b() as session_b:
            rows_a = await repo.claim_batch(session=session_a, worker_id="a", now=now, limit=15)
            rows_b = await asyncio.wait_for(
                repo.claim_batch(session=session_b, worker_id="b", now=now, limit=15), timeout=20
            )
            await session_a.commit()
            await session_b.commit()
        ids_a, ids_b = {r.id for r in rows_a}, {r.id for r in rows_b}
        assert len(ids_a) == len(ids_b) == 15
        assert not ids_a & ids_b

        claimed: dict[str, list[int]] = {"a": [], "b": []}

        async def drain(factory: Factory, worker: str) -> None:
            while rows := await claim(factory, now, worker=worker, limit=3):
                claimed[worker].extend(r.id for r in rows if r.id is not None)
                await asyncio.sleep(0)

        await asyncio.gather(drain(factory_a, "a"), drain(factory_b, "b"))
        everything = [*ids_a, *ids_b, *claimed["a"], *claimed["b"]]
        assert sorted(everything) == sorted(ids)
    finally:
        await engine_a.dispose()
        await engine_b.dispose()


@pytest.mark.postgres
async def test_claims_are_planned_for_the_table_as_it_is(postgres_url: str) -> None:
    """The claim never runs a cached generic plan, even where generic plans are the rule.

    A generic plan made while the outbox was small scanned the whole table for every
    candidate: in a surge with a few thousand rows queued each claim took seconds.
    """
    await migrate.upgrade(postgres_url)
    engine = create_engine(postgres_url)
    factory = create_session_factory(engine)
    try:
        await add(factory, *(text(chat, f"m{chat}") for chat in range(1, 6)))
        async with factory() as session:
            # Sequential use: one pooled connection serves every transaction below.
            await session.exec(sql_text("SET plan_cache_mode = force_generic_plan"))  # type: ignore[call-overload]
            for _ in range(7):  # PostgreSQL considers a generic plan after five executions
                await repo.claim_batch(session=session, worker_id="w", now=utcnow(), limit=1)
                await session.commit()
            plans = (
                await session.exec(  # type: ignore[call-overload]
                    sql_text(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                        " WHERE statement LIKE 'WITH claimable%'"
                    )
                )
            ).all()
        assert plans, "the claim ran as a prepared statement"
        assert all(generic == 0 and custom > 0 for generic, custom in plans), plans
    finally:
        await engine.dispose()


async def test_purge_keeps_unsettled_and_correlated_rows(session_factory: Factory) -> None:
    """Old settled rows go; pending rows and rows a correlation may name again stay."""
    old_sent, old_named, old_pending, new_sent = await add(
        session_factory,
        text(1, "old sent"),
        text(2, "old named", correlation="incident:1:card"),
        text(3, "old pending"),
        text(4, "new sent"),
    )
    now = utcnow()
    await claim(session_factory, now)
    for row_id in (old_sent, old_named, new_sent):
        await settle(session_factory, row_id, now)
    async with session_factory() as session, session.begin():
        await repo.reschedule(
            session=session, worker_id="w1", message_id=old_pending, at=now, error="network: x"
        )
    cutoff = (await load(session_factory, new_sent)).created_at
    async with session_factory() as session, session.begin():
        assert await repo.purge_settled(session=session, before=cutoff) == 1
    async with session_factory() as session:
        assert await repo.get(session=session, message_id=old_sent) is None
        for kept in (old_named, old_pending, new_sent):
            assert await repo.get(session=session, message_id=kept) is not None


async def test_a_late_result_cannot_undo_another_workers(session_factory: Factory) -> None:
    """A worker whose lease expired and passed to another records nothing: no third send."""
    (row_id,) = await add(session_factory, text(1, "once"))
    now = utcnow()
    (mine,) = await claim(session_factory, now, worker="a")
    later = now + repo.DEFAULT_LEASE + timedelta(seconds=1)
    (theirs,) = await claim(session_factory, later, worker="b")
    assert (mine.id, theirs.id, theirs.lease_owner) == (row_id, row_id, "b")
    async with session_factory() as session, session.begin():
        assert await repo.mark_sent(
            session=session, message_id=row_id, worker_id="b", now=later, result_message_id=7
        )

    late = {"session_factory": session_factory, "row_id": row_id, "now": later}
    assert not await _as_a(**late, write="reschedule")
    assert not await _as_a(**late, write="failed")
    assert not await _as_a(**late, write="unreachable")
    assert not await _as_a(**late, write="sent")
    row = await load(session_factory, row_id)
    assert (row.status, row.result_message_id, row.lease_owner) == ("sent", 7, None)
    assert await claim(session_factory, later + timedelta(minutes=10), worker="c") == []


async def test_a_late_result_while_another_worker_sends_leaves_its_lease(
    session_factory: Factory,
) -> None:
    """While the other worker still sends, a late reschedule leaves the row leased to it."""
    (row_id,) = await add(session_factory, text(1, "in flight"))
    now = utcnow()
    await claim(session_factory, now, worker="a")
    later = now + repo.DEFAULT_LEASE + timedelta(seconds=1)
    await claim(session_factory, later, worker="b")
    assert not await _as_a(session_factory, row_id, later, write="reschedule")
    row = await load(session_factory, row_id)
    assert (row.status, row.lease_owner, row.attempts) == ("sending", "b", 0)
    assert await claim(session_factory, later + timedelta(seconds=1), worker="c") == []


async def test_an_expired_lease_nobody_took_still_records(session_factory: Factory) -> None:
    """A slow worker whose lease ran out, but whose row nobody claimed again, still records."""
    (row_id,) = await add(session_factory, text(1, "slow"))
    now = utcnow()
    await claim(session_factory, now, worker="a")
    later = now + repo.DEFAULT_LEASE + timedelta(seconds=30)
    assert await _as_a(session_factory, row_id, later, write="sent")
    assert (await load(session_factory, row_id)).status == "sent"


async def test_a_batch_records_only_the_rows_still_leased(session_factory: Factory) -> None:
    """mark_sent_many skips a row another worker took; the count says so where known."""
    lost, kept = await add(session_factory, text(1, "lost"), text(2, "kept"))
    now = utcnow()
    await claim(session_factory, now, worker="a")
    later = now + repo.DEFAULT_LEASE + timedelta(seconds=1)
    async with session_factory() as session, session.begin():
        await repo.claim_batch(session=session, worker_id="b", now=later, limit=1)
    async with session_factory() as session, session.begin():
        recorded = await repo.mark_sent_many(
            session=session,
            worker_id="a",
            deliveries=[
                repo.SentRecord(message_id=lost, now=later, result_message_id=1),
                repo.SentRecord(message_id=kept, now=later, result_message_id=2),
            ],
        )
    assert recorded == 1  # on PostgreSQL too, where asyncpg reports no count for a batch
    assert (await load(session_factory, lost)).lease_owner == "b"
    assert (await load(session_factory, kept)).status == "sent"


async def _as_a(session_factory: Factory, row_id: int, now: datetime, *, write: str) -> bool:
    """Record one result as worker "a", whose lease has passed on; True if it was written."""
    async with session_factory() as session, session.begin():
        mine = {"session": session, "message_id": row_id, "worker_id": "a"}
        if write == "reschedule":
            return await repo.reschedule(**mine, at=now, error="network: late")
        if write == "failed":
            return await repo.mark_failed(**mine, error="bad_request: late", now=now)
        if write == "unreachable":
            return await repo.mark_unreachable(**mine, error="forbidden: late", now=now)
        return await repo.mark_sent(**mine, now=now, result_message_id=99)
