"""One rescheduling rule for a running escalation chain: a priority change or a merge never
fires more than one step at once, never posts a step twice, and keeps the clock's start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from situation import deadlines, triage
from situation.deadlines import Escalation, clock_start, escalate_due, next_step_at
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models.escalations import IncidentDeadline
from storage.models.incidents import Incident, IncidentStatus
from tests.situation.conftest import START, Steps
from tests.situation.test_staffroom import FAR, HAEUN, ROOM, Room, texts

MINUTE = timedelta(minutes=1)


async def deadline_of(steps: Steps, incident_id: int) -> IncidentDeadline:
    async with steps.tx() as session:
        found = await session.get(IncidentDeadline, incident_id)
    assert found is not None
    return found


async def sweep(steps: Steps, now: datetime) -> list[Escalation]:
    async with steps.tx() as session:
        return await escalate_due(session=session, now=now, room=ROOM)


async def set_priority(steps: Steps, incident_id: int, priority: str, now: datetime) -> None:
    async with steps.tx() as session:
        outcome = await triage.set_priority(
            session=session,
            incident_id=incident_id,
            priority=priority,
            actor=HAEUN,
            room=ROOM,
            now=now,
        )
    assert outcome.ok


async def merge(steps: Steps, source_id: int, target_id: int, now: datetime) -> None:
    async with steps.tx() as session:
        outcome = await triage.merge(
            session=session,
            source_id=source_id,
            target_id=target_id,
            actor=HAEUN,
            room=ROOM,
            now=now,
        )
    assert outcome.ok


def reminders(room_texts: list[str]) -> list[str]:
    """The escalation steps among the staff room's texts (not the digest in General)."""
    return [text for text in room_texts if "알림이 멈춥니다" in text]


def test_the_next_step_is_due_on_the_new_ladder_or_one_ack_time_after_the_change() -> None:
    """Natural time if still ahead; else one ack time after the change, or sooner if it was."""
    two = 2 * MINUTE
    # Still ahead on the new ladder from the clock's start: that time.
    assert next_step_at(
        start=START, ack_time=two, step=0, now=START + MINUTE, due_before=START + 10 * MINUTE
    ) == (START + two)
    # A P3 reminded at 30 min, raised to P1 at 35: the lead at 37, not everyone at once.
    assert (
        next_step_at(
            start=START,
            ack_time=two,
            step=1,
            now=START + 35 * MINUTE,
            due_before=START + 60 * MINUTE,
        )
        == START + 37 * MINUTE
    )
    assert (
        next_step_at(start=START, ack_time=two, step=1, now=START + 35 * MINUTE, due_before=None)
        == START + 37 * MINUTE
    )
    # A P2 raised to P1 at 9 min: the team at 10 as before the raise, not at 11.
    assert (
        next_step_at(
            start=START,
            ack_time=two,
            step=0,
            now=START + 9 * MINUTE,
            due_before=START + 10 * MINUTE,
        )
        == START + 10 * MINUTE
    )


def test_the_clock_start_is_stored_and_derived_for_rows_from_before() -> None:
    """A row with a start uses it; an older row counts back from its due time."""
    old = IncidentDeadline(incident_id=1, priority="P2", due_at=START + 10 * MINUTE)
    assert clock_start(old, ROOM) == START
    stored = IncidentDeadline(
        incident_id=1, priority="P2", started_at=START, due_at=START + 40 * MINUTE
    )
    assert clock_start(stored, ROOM) == START


@pytest.mark.parametrize("older_is_target", [False, True])
async def test_a_merge_onto_an_old_clock_with_a_raise_fires_one_step_at_a_time(
    steps: Steps, older_is_target: bool
) -> None:
    """A P3 reminded at 30 min merged with a new P1 at 35: lead at 37, everyone at 39."""
    room = Room(steps)
    await room.seed()
    older = await room.report(501, "불이 났어요")
    assert older.id is not None
    await set_priority(steps, older.id, "P3", START)
    (team,) = await sweep(steps, START + 30 * MINUTE + timedelta(seconds=5))
    assert (team.incident_id, team.level) == (older.id, "team")
    await room.staff_rows()
    now = START + 35 * MINUTE
    newer = await room.report(502, "불이 났어요", place=FAR, now=now)
    assert newer.id is not None and newer.id != older.id and newer.priority == "P1"
    source, target = (newer.id, older.id) if older_is_target else (older.id, newer.id)

    await merge(steps, source, target, now)

    deadline = await deadline_of(steps, target)
    assert (deadline.priority, deadline.step, deadline.started_at) == ("P1", 1, START)
    assert deadline.next_at == START + 37 * MINUTE
    assert await sweep(steps, now) == []  # nothing fires at the merge itself
    lead = await sweep(steps, START + 37 * MINUTE + timedelta(seconds=5))
    assert [(e.incident_id, e.step, e.level) for e in lead] == [(target, 2, "lead")]
    everyone = await sweep(steps, START + 39 * MINUTE + timedelta(seconds=5))
    assert [(e.incident_id, e.step, e.level) for e in everyone] == [(target, 3, "everyone")]
    posted = reminders(texts(await room.staff_rows()))
    assert len(posted) == 2  # the team step of the old chain is not posted again
    assert "조장" in posted[0] and "전원" in posted[1]
    assert "37분 경과" in posted[0] and "39분 경과" in posted[1]  # counted from the old clock


async def test_a_priority_change_after_a_merge_keeps_the_merged_start(steps: Steps) -> None:
    """Merged onto a clock started a minute earlier, then lowered: P2's ladder from that start."""
    room = Room(steps)
    await room.seed()
    older = await room.report(501, "불이 났어요")
    newer = await room.report(502, "불이 났어요", place=FAR, now=START + MINUTE)
    assert older.id is not None and newer.id is not None and older.id != newer.id
    await merge(steps, older.id, newer.id, START + MINUTE)
    assert (await deadline_of(steps, newer.id)).started_at == START

    await set_priority(steps, newer.id, "P2", START + 90 * timedelta(seconds=1))

    deadline = await deadline_of(steps, newer.id)
    assert (deadline.priority, deadline.started_at) == ("P2", START)
    assert deadline.due_at == deadline.next_at == START + 10 * MINUTE
    assert await sweep(steps, START + 9 * MINUTE) == []
    await room.staff_rows()
    (team,) = await sweep(steps, START + 10 * MINUTE + timedelta(seconds=5))
    assert team.level == "team"
    (posted,) = reminders(texts(await room.staff_rows()))
    assert "10분 경과" in posted


async def test_a_raise_never_delays_a_reminder_the_chain_had_due_sooner(steps: Steps) -> None:
    """A P2 raised to P1 at 9 min: the team at 10 min as it was due, not a grace later."""
    room = Room(steps)
    await room.seed()
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    await set_priority(steps, incident.id, "P2", START)
    await set_priority(steps, incident.id, "P1", START + 9 * MINUTE)

    deadline = await deadline_of(steps, incident.id)
    assert (deadline.priority, deadline.started_at) == ("P1", START)
    assert deadline.next_at == START + 10 * MINUTE
    (team,) = await sweep(steps, START + 10 * MINUTE + timedelta(seconds=5))
    assert team.level == "team"
    (lead,) = await sweep(steps, START + 12 * MINUTE + timedelta(seconds=5))
    assert lead.level == "lead"


PATIENCE = 20.0  # seconds a blocked transaction may take to get going (a shared machine)


@pytest.fixture
async def pg_steps(postgres_url: str, steps: Steps) -> AsyncIterator[Steps]:
    """Steps on a migrated PostgreSQL schema, whichever database the suite uses.

    The interleavings below cannot happen on SQLite: there a write transaction holds the
    database from its first statement (BEGIN IMMEDIATE, one write turn at a time).
    """
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        yield Steps(create_session_factory(engine), steps.config)
    finally:
        await engine.dispose()


async def blocked_or_done(steps: Steps, pid: int, task: asyncio.Task[None]) -> None:
    """Wait until the backend ``pid`` waits for a row lock, or ``task`` is done."""
    async with asyncio.timeout(PATIENCE):
        while not task.done():
            async with steps.session_factory() as watcher:
                waiting = (
                    await watcher.exec(
                        text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),  # type: ignore[call-overload]
                        params={"pid": pid},
                    )
                ).one_or_none()
            if waiting is not None and waiting[0] == "Lock":
                return
            await asyncio.sleep(0.02)


async def in_a_transaction(
    steps: Steps,
    change: Callable[[AsyncSession], Awaitable[object]],
    started: asyncio.Future[int],
) -> None:
    """Run ``change`` in its own transaction (its backend's pid in ``started``) and commit."""
    async with steps.session_factory() as session, session.begin():
        pid = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]  # type: ignore[call-overload]
        started.set_result(int(pid))
        await change(session)


async def while_a_sweep_is_posting(
    steps: Steps,
    now: datetime,
    change: Callable[[AsyncSession], Awaitable[object]],
    monkeypatch: pytest.MonkeyPatch,
) -> list[Escalation]:
    """Run ``change`` in its own transaction while a sweep is posting a step it claimed.

    Deterministic: the sweep pauses just before it posts; the change runs until it waits for a
    row lock (or ends); only then does the sweep go on and commit, and the change finish.
    """
    posting, go_on = asyncio.Event(), asyncio.Event()
    real = deadlines._post_step

    async def paused(*args: Any) -> None:
        posting.set()
        await go_on.wait()
        await real(*args)

    monkeypatch.setattr(deadlines, "_post_step", paused)
    sweeper = asyncio.create_task(sweep(steps, now))
    await asyncio.wait_for(posting.wait(), PATIENCE)
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    changer = asyncio.create_task(in_a_transaction(steps, change, started))
    await blocked_or_done(steps, await asyncio.wait_for(started, PATIENCE), changer)
    go_on.set()
    fired = await asyncio.wait_for(sweeper, PATIENCE)
    await asyncio.wait_for(changer, PATIENCE)
    return fired


@pytest.mark.postgres
async def test_a_merge_while_a_sweep_posts_a_step_does_not_post_it_again(
    pg_steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The older P1's team reminder posted as it is merged into a newer P1: not posted twice."""
    room = Room(pg_steps)
    await room.seed()
    older = await room.report(501, "불이 났어요")
    newer = await room.report(502, "불이 났어요", place=FAR, now=START + MINUTE)
    assert older.id is not None and newer.id is not None and older.id != newer.id
    await room.staff_rows()
    now = START + 2 * MINUTE + timedelta(seconds=5)

    async def merge_them(session: AsyncSession) -> None:
        assert older.id is not None and newer.id is not None
        outcome = await triage.merge(
            session=session,
            source_id=older.id,
            target_id=newer.id,
            actor=HAEUN,
            room=ROOM,
            now=now,
        )
        assert outcome.ok

    (team,) = await while_a_sweep_is_posting(pg_steps, now, merge_them, monkeypatch)
    assert (team.incident_id, team.level) == (older.id, "team")

    deadline = await deadline_of(pg_steps, newer.id)
    assert (deadline.step, deadline.started_at) == (1, START)  # the team step is counted
    later = []
    for minutes in (3, 4, 5, 6, 7):
        later += await sweep(pg_steps, START + minutes * MINUTE + timedelta(seconds=5))
    assert [(e.incident_id, e.level) for e in later] == [(newer.id, "lead"), (newer.id, "everyone")]
    posted = reminders(texts(await room.staff_rows()))
    assert len(posted) == 3 and "근무조" in posted[0]


@pytest.mark.postgres
async def test_a_priority_change_while_a_sweep_posts_a_step_keeps_its_progress(
    pg_steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A P1's team reminder posted as it is lowered to P2: the lead is due on P2's ladder."""
    room = Room(pg_steps)
    await room.seed()
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    now = START + 2 * MINUTE + timedelta(seconds=5)

    async def lower(session: AsyncSession) -> None:
        assert incident.id is not None
        outcome = await triage.set_priority(
            session=session,
            incident_id=incident.id,
            priority="P2",
            actor=HAEUN,
            room=ROOM,
            now=now,
        )
        assert outcome.ok

    (team,) = await while_a_sweep_is_posting(pg_steps, now, lower, monkeypatch)
    assert team.level == "team"

    deadline = await deadline_of(pg_steps, incident.id)
    # As if the sweep had committed first: step 1 posted, the lead at 20 min on P2's ladder.
    assert (deadline.priority, deadline.step) == ("P2", 1)
    assert deadline.next_at == START + 20 * MINUTE


@pytest.mark.postgres
async def test_a_sweep_leaves_an_incident_a_merge_holds_to_its_next_pass(pg_steps: Steps) -> None:
    """A merge not committed yet: the sweep neither waits for it nor posts from a stale read."""
    room = Room(pg_steps)
    await room.seed()
    older = await room.report(501, "불이 났어요")
    newer = await room.report(502, "불이 났어요", place=FAR, now=START + MINUTE)
    assert older.id is not None and newer.id is not None and older.id != newer.id
    await room.staff_rows()
    now = START + 2 * MINUTE + timedelta(seconds=5)

    async def merge_them(session: AsyncSession) -> None:
        assert older.id is not None and newer.id is not None
        outcome = await triage.merge(
            session=session,
            source_id=older.id,
            target_id=newer.id,
            actor=HAEUN,
            room=ROOM,
            now=now,
        )
        assert outcome.ok

    merged, commit = asyncio.Event(), asyncio.Event()

    async def merge_and_wait(session: AsyncSession) -> None:
        await merge_them(session)
        merged.set()
        await commit.wait()

    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    merging = asyncio.create_task(in_a_transaction(pg_steps, merge_and_wait, started))
    await asyncio.wait_for(merged.wait(), PATIENCE)
    assert await asyncio.wait_for(sweep(pg_steps, now), PATIENCE) == []  # did not wait
    commit.set()
    await asyncio.wait_for(merging, PATIENCE)
    (team,) = await sweep(pg_steps, now + timedelta(seconds=1))
    assert (team.incident_id, team.level) == (newer.id, "team")
    assert len(reminders(texts(await room.staff_rows()))) == 1


def test_a_chain_chases_the_unacknowledged_and_the_released_not_the_held_or_closed() -> None:
    def chased(status: str, holder: str | None) -> bool:
        return deadlines.chased(Incident(reference="I-1", status=status, holder=holder))

    assert chased(IncidentStatus.NEW, None)
    assert chased(IncidentStatus.ACKNOWLEDGED, None)  # released: nobody took it since
    assert chased(IncidentStatus.ESCALATED, None)
    assert not chased(IncidentStatus.ACKNOWLEDGED, "42")
    assert not chased(IncidentStatus.CLOSED, None)
