"""The outbox in batches: several deliveries settled at once, rows queued and written together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox as repo
from storage.models.base import utcnow
from storage.models.chats import ChatState
from storage.models.outbox import OutboxCreate, OutboxMessage, OutboxStatus
from storage.outbox import OutboxSignal, SentRecord

Factory = async_sessionmaker[AsyncSession]


def text(chat_id: int, label: str) -> OutboxCreate:
    return OutboxCreate(chat_id=chat_id, kind="text", payload={"text": label})


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL statements the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def add(factory: Factory, *messages: OutboxCreate) -> list[int]:
    ids = []
    async with factory() as session, session.begin():
        for message in messages:
            row = await repo.enqueue(session=session, message=message)
            assert row.id is not None
            ids.append(row.id)
    return ids


async def load(factory: Factory, row_id: int) -> OutboxMessage:
    async with factory() as session:
        row = await repo.get(session=session, message_id=row_id)
    assert row is not None
    return row


async def claim(factory: Factory, worker: str, limit: int = 10) -> list[int]:
    async with factory() as session, session.begin():
        rows = await repo.claim_batch(session=session, worker_id=worker, now=utcnow(), limit=limit)
    return [row.id for row in rows if row.id is not None]


# -- mark_sent_many ----------------------------------------------------------------------------


async def test_mark_sent_many_records_every_delivery(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Each named row becomes sent with its own time, ids and result; its lease is cleared."""
    first, second, third = await add(session_factory, text(1, "a"), text(2, "b"), text(3, "c"))
    assert sorted(await claim(session_factory, "w1")) == [first, second, third]
    now = utcnow()
    deliveries = [
        SentRecord(message_id=first, now=now, result_message_id=11, result={"ok": 1}),
        SentRecord(
            message_id=second,
            now=now + timedelta(seconds=1),
            result_message_id=22,
            result_thread_id=7,
        ),
        SentRecord(message_id=third, now=now + timedelta(seconds=2)),
    ]
    with statements(engine) as seen:
        async with session_factory() as session, session.begin():
            await repo.mark_sent_many(session=session, worker_id="w1", deliveries=deliveries)
    assert len([sql for sql in seen if sql.lstrip().upper().startswith("UPDATE")]) == 1

    rows = [await load(session_factory, row_id) for row_id in (first, second, third)]
    assert [row.status for row in rows] == [OutboxStatus.SENT] * 3
    assert [row.sent_at for row in rows] == [one.now for one in deliveries]
    assert [row.result_message_id for row in rows] == [11, 22, None]
    assert [row.result_thread_id for row in rows] == [None, 7, None]
    assert [row.result for row in rows] == [{"ok": 1}, None, None]
    assert {(row.lease_owner, row.lease_until) for row in rows} == {(None, None)}


async def test_mark_sent_many_leaves_other_rows_alone(session_factory: Factory) -> None:
    """Rows not in the batch keep their state: other leases, settled and pending rows."""
    mine, also_mine, theirs, failed, pending_head, waiting = await add(
        session_factory,
        text(1, "mine"),
        text(2, "also mine"),
        text(3, "theirs"),
        text(4, "failed"),
        text(5, "pending head"),
        text(5, "waits for its chat"),
    )
    now = utcnow()
    assert await claim(session_factory, "w1", limit=2) == [mine, also_mine]
    assert await claim(session_factory, "w2", limit=1) == [theirs]
    assert await claim(session_factory, "w1", limit=1) == [failed]
    async with session_factory() as session, session.begin():
        await repo.mark_failed(
            session=session, worker_id="w1", message_id=failed, error="bad_request: x", now=now
        )
    before = {
        row_id: (await load(session_factory, row_id)).model_dump()
        for row_id in (theirs, failed, pending_head, waiting)
    }

    async with session_factory() as session, session.begin():
        await repo.mark_sent_many(
            session=session,
            worker_id="w1",
            deliveries=[
                SentRecord(message_id=mine, now=now, result_message_id=1),
                SentRecord(message_id=also_mine, now=now, result_message_id=2),
            ],
        )

    assert (await load(session_factory, mine)).status == OutboxStatus.SENT
    assert (await load(session_factory, also_mine)).status == OutboxStatus.SENT
    for row_id, dumped in before.items():
        assert (await load(session_factory, row_id)).model_dump() == dumped
    other = await load(session_factory, theirs)
    assert (other.status, other.lease_owner) == (OutboxStatus.SENDING, "w2")
    assert (await load(session_factory, pending_head)).status == OutboxStatus.PENDING


async def test_mark_sent_many_matches_mark_sent(session_factory: Factory) -> None:
    """A batch leaves each row exactly as one mark_sent per row would."""
    ids = await add(session_factory, *(text(chat, f"m{chat}") for chat in range(1, 7)))
    await claim(session_factory, "w1")
    now = utcnow()
    records = [
        SentRecord(
            message_id=row_id,
            now=now + timedelta(seconds=index % 3),
            result_message_id=100 + index % 3,
            result_thread_id=index % 3 or None,
            result={"n": index % 3} if index % 3 else None,
        )
        for index, row_id in enumerate(ids)
    ]
    async with session_factory() as session, session.begin():
        for one in records[:3]:
            await repo.mark_sent(
                session=session,
                worker_id="w1",
                message_id=one.message_id,
                now=one.now,
                result_message_id=one.result_message_id,
                result_thread_id=one.result_thread_id,
                result=one.result,
            )
        await repo.mark_sent_many(session=session, worker_id="w1", deliveries=records[3:])

    def outcome(row: OutboxMessage) -> tuple[object, ...]:
        return (
            row.status,
            row.sent_at,
            row.lease_owner,
            row.lease_until,
            row.result_message_id,
            row.result_thread_id,
            row.result,
        )

    singly = [outcome(await load(session_factory, row_id)) for row_id in ids[:3]]
    batched = [outcome(await load(session_factory, row_id)) for row_id in ids[3:]]
    assert singly == batched


async def test_mark_sent_many_with_one_or_no_delivery(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """An empty batch sends no statement; a batch of one records that row."""
    (row_id,) = await add(session_factory, text(1, "only"))
    await claim(session_factory, "w1")
    with statements(engine) as seen:
        async with session_factory() as session:
            await repo.mark_sent_many(session=session, worker_id="w1", deliveries=[])
    assert seen == []
    now = utcnow()
    async with session_factory() as session, session.begin():
        await repo.mark_sent_many(
            session=session,
            worker_id="w1",
            deliveries=[SentRecord(message_id=row_id, now=now, result_message_id=5)],
        )
    row = await load(session_factory, row_id)
    assert (row.status, row.sent_at, row.result_message_id) == (OutboxStatus.SENT, now, 5)


async def test_mark_sent_many_skips_a_row_that_is_gone(session_factory: Factory) -> None:
    """Like mark_sent, a batch naming a deleted row still records the others."""
    (row_id,) = await add(session_factory, text(1, "kept"))
    await claim(session_factory, "w1")
    now = utcnow()
    async with session_factory() as session, session.begin():
        await repo.mark_sent(session=session, worker_id="w1", message_id=row_id + 1000, now=now)
        await repo.mark_sent_many(
            session=session,
            worker_id="w1",
            deliveries=[
                SentRecord(message_id=row_id, now=now),
                SentRecord(message_id=row_id + 1000, now=now),
            ],
        )
    assert (await load(session_factory, row_id)).status == OutboxStatus.SENT


# -- enqueue_batched ---------------------------------------------------------------------------


async def stored(factory: Factory) -> list[tuple[int, str]]:
    """(chat, text) of every outbox row, in id order."""
    async with factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [(row.chat_id, row.payload["text"]) for row in rows]


async def test_batched_rows_are_stored_in_the_order_they_were_queued(
    session_factory: Factory,
) -> None:
    """Ids follow the order of queueing, so each chat's messages go out in that order."""
    labels = [(7, "a1"), (8, "b1"), (7, "a2"), (7, "a3"), (8, "b2"), (7, "a4")]
    async with session_factory() as session, session.begin():
        for chat, label in labels:
            repo.enqueue_batched(session=session, message=text(chat, label))
    assert await stored(session_factory) == labels

    sent_order: list[str] = []
    while heads := await claim(session_factory, "w1"):
        async with session_factory() as session, session.begin():
            for row_id in heads:
                row = await repo.get(session=session, message_id=row_id)
                assert row is not None
                sent_order.append(row.payload["text"])
                await repo.mark_sent(
                    session=session, worker_id="w1", message_id=row_id, now=utcnow()
                )
    assert [label for label in sent_order if label.startswith("a")] == ["a1", "a2", "a3", "a4"]
    assert [label for label in sent_order if label.startswith("b")] == ["b1", "b2"]


async def test_batched_rows_go_before_a_later_flushed_one(session_factory: Factory) -> None:
    """A flush of ORM changes writes the rows queued before it first; a query alone does not."""
    async with session_factory() as session, session.begin():
        repo.enqueue_batched(session=session, message=text(1, "early"))
        repo.enqueue_batched(session=session, message=text(1, "middle"))
        late = await repo.enqueue(session=session, message=text(1, "late"))
        assert late.id is not None
        repo.enqueue_batched(session=session, message=text(1, "queued"))
        assert await repo.pending_count(session=session) == 3  # "queued" waits for the commit
    assert await stored(session_factory) == [
        (1, "early"),
        (1, "middle"),
        (1, "late"),
        (1, "queued"),
    ]


async def test_batched_rows_are_one_insert_at_commit(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Queued rows touch the database only at commit, all in one INSERT, on either database."""

    def inserts(seen: list[str]) -> list[str]:
        return [sql for sql in seen if sql.lstrip().upper().startswith("INSERT INTO OUTBOX")]

    with statements(engine) as seen:
        async with session_factory() as session, session.begin():
            for index in range(5):
                repo.enqueue_batched(session=session, message=text(1, f"m{index}"))
            await session.flush()  # nothing else changed: the rows still wait
            assert inserts(seen) == []
    assert len(inserts(seen)) == 1
    assert await stored(session_factory) == [(1, f"m{index}") for index in range(5)]


async def test_a_failed_savepoint_drops_only_the_rows_queued_inside_it(
    session_factory: Factory,
) -> None:
    """Rows queued before a savepoint survive its rollback, even when it flushed; its own do not."""
    async with session_factory() as session, session.begin():
        repo.enqueue_batched(session=session, message=text(1, "before"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                repo.enqueue_batched(session=session, message=text(1, "inside, dropped"))
                session.add(ChatState(chat_id=9))
                await session.flush()
                raise RuntimeError("insert-or-ignore lost the race")
        async with session.begin_nested():
            repo.enqueue_batched(session=session, message=text(1, "inside, kept"))
        repo.enqueue_batched(session=session, message=text(1, "after"))
    assert await stored(session_factory) == [
        (1, "before"),
        (1, "inside, kept"),
        (1, "after"),
    ]


async def test_a_rolled_back_transaction_leaves_nothing_queued(session_factory: Factory) -> None:
    """The session's next transaction does not inherit rows from one that rolled back."""
    async with session_factory() as session:
        async with session.begin():
            repo.enqueue_batched(session=session, message=text(1, "dropped"))
            await session.rollback()
        async with session.begin():
            repo.enqueue_batched(session=session, message=text(1, "kept"))
    assert await stored(session_factory) == [(1, "kept")]


async def test_signal_follows_the_commit_of_batched_rows(session_factory: Factory) -> None:
    """Rows written only at commit wake the sender after it; a rollback wakes nobody."""
    signal = OutboxSignal()
    signal.attach(session_factory)

    async with session_factory() as session:
        repo.enqueue_batched(session=session, message=text(1, "dropped"))
        await session.rollback()
    assert signal.count == 0

    async with session_factory() as session:
        repo.enqueue_batched(session=session, message=text(1, "flushed, then dropped"))
        await session.flush()
        assert signal.count == 0
        await session.rollback()
        session.add(ChatState(chat_id=1))
        await session.commit()  # the rolled-back rows do not count for this commit
    assert signal.count == 0

    async with session_factory() as session:
        repo.enqueue_batched(session=session, message=text(1, "kept"))
        assert signal.count == 0
        await session.commit()
        assert signal.count == 1
        session.add(ChatState(chat_id=2))
        await session.commit()  # nothing new in the outbox this time
    assert signal.count == 1
    assert await signal.wait(timeout=0)
    async with session_factory() as session:
        assert await repo.pending_count(session=session) == 1


async def test_signal_survives_a_failed_savepoint(session_factory: Factory) -> None:
    """Outbox rows flushed before a savepoint that fails still wake the sender at commit."""
    signal = OutboxSignal()
    signal.attach(session_factory)
    async with session_factory() as session:
        await session.begin()
        await repo.enqueue(session=session, message=text(1, "kept"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                raise RuntimeError("insert-or-ignore lost the race")
        await session.commit()
    assert signal.count == 1
