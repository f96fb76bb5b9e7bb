"""The scheduler: sync job-store URLs, the leader lease, and a stored job that survives a
restart and fires once."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

import bot.scheduler as scheduler_module
from bot.scheduler import (
    SWEEP_JOB_ID,
    SchedulerService,
    create_job_store_engine,
    create_scheduler,
    sync_url,
)
from situation.clock import Clock
from situation.staffroom import RoomConfig
from storage.escalations import release_lease, try_lease
from storage.models.escalations import SchedulerLease


def test_sync_url_for_sqlite_and_postgresql() -> None:
    assert sync_url("sqlite+aiosqlite:///var/jikimi.db") == "sqlite:///var/jikimi.db"
    converted = sync_url("postgresql+asyncpg://u:p@db:5432/jikimi?search_path=t_1")
    assert converted.startswith("postgresql+psycopg://u:p@db:5432/jikimi?")
    assert "search_path%3Dt_1" in converted or "search_path=t_1" in converted


LEASE = timedelta(seconds=30)


async def take(session_factory: Any, owner: str, now: datetime | None = None) -> bool:
    """Try to take or renew the scheduler lease for ``owner`` (its clock saying ``now``)."""
    async with session_factory() as session, session.begin():
        return await try_lease(
            session=session,
            name="scheduler",
            owner=owner,
            now=now or datetime.now(UTC),
            lease=LEASE,
        )


async def expire(session_factory: Any) -> None:
    """Let the lease run out now (instead of waiting for it)."""
    async with session_factory() as session, session.begin():
        await session.exec(
            update(SchedulerLease).values(until=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_the_lease_has_one_owner_until_it_expires(session_factory: Any) -> None:
    assert await take(session_factory, "a")
    assert not await take(session_factory, "b")
    assert await take(session_factory, "a")  # renewal
    await expire(session_factory)
    assert await take(session_factory, "b")  # a died: b takes over
    assert not await take(session_factory, "a")
    async with session_factory() as session, session.begin():
        await release_lease(session=session, name="scheduler", owner="b")
    assert await take(session_factory, "a")


async def test_a_worker_whose_clock_runs_ahead_cannot_take_the_lease(
    session_factory: Any,
) -> None:
    """On PostgreSQL the database's clock judges the lease, not the worker's."""
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite runs on one machine: its workers share one clock")
    assert await take(session_factory, "a")
    assert not await take(session_factory, "b", now=datetime.now(UTC) + timedelta(hours=1))
    assert await take(session_factory, "a", now=datetime.now(UTC) - timedelta(hours=1))


async def test_only_one_of_two_workers_runs_the_scheduler(
    session_factory: Any, database_url: str
) -> None:
    room = RoomConfig(chat_id=None)
    services = [
        SchedulerService(
            database_url=database_url,
            session_factory=session_factory,
            room=room,
            clock=Clock(),
            worker_id=name,
            sweep_seconds=3600,
        )
        for name in ("w1", "w2")
    ]
    try:
        assert [await service.step() for service in services] == [True, False]
        assert services[0].leading and not services[1].leading
        await services[0].stop()  # releases the lease
        assert await services[1].step() and services[1].leading
    finally:
        for service in services:
            await service.stop()


async def test_a_stop_while_the_scheduler_starts_waits_for_the_start(
    session_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop while the scheduler's start still runs in its thread waits, then shuts it down."""
    started = threading.Event()

    def slow_start(scheduler: Any, **kwargs: Any) -> None:
        started.set()
        time.sleep(0.3)  # the worker is stopped meanwhile
        real_start(scheduler, **kwargs)

    real_start = scheduler_module.start_scheduler
    monkeypatch.setattr(scheduler_module, "start_scheduler", slow_start)
    service = SchedulerService(
        database_url=database_url,
        session_factory=session_factory,
        room=RoomConfig(chat_id=None),
        clock=Clock(),
        worker_id="w1",
        sweep_seconds=3600,
    )
    await service.start()
    assert await asyncio.to_thread(started.wait, 10)
    scheduler = service.scheduler
    assert scheduler is not None
    await service.stop()
    await asyncio.sleep(0.5)  # long after the start's thread would have gone on
    # Before, the start went on after the stop and left a scheduler running (or the stop
    # caught it half-started: "cannot join thread before it is started").
    assert not scheduler.running
    assert service.scheduler is None


FIRED: list[datetime] = []


def record_run() -> None:
    """A job for the test below (referenced by name, like the real ones)."""
    FIRED.append(datetime.now(UTC))


async def test_a_stored_job_missed_while_down_fires_once_on_start(database_url: str) -> None:
    FIRED.clear()
    engines = [create_job_store_engine(database_url) for _ in range(2)]
    first = create_scheduler(database_url, engines[0])
    await asyncio.to_thread(
        first.add_job,
        f"{__name__}:record_run",
        "interval",
        minutes=1,
        id="missed",
        next_run_time=datetime.now(UTC) - timedelta(minutes=5),  # five runs missed
    )
    await asyncio.to_thread(first.start, paused=True)  # stores the job, runs nothing
    # The worker then dies without a clean shutdown (its paused daemon thread stays idle).

    second = create_scheduler(database_url, engines[1])
    await asyncio.to_thread(second.start)
    try:
        for _ in range(100):
            if FIRED:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert len(FIRED) == 1  # coalesced: once, not five times
        job = await asyncio.to_thread(second.get_job, "missed")
        assert job is not None and job.next_run_time > datetime.now(UTC)
        assert await asyncio.to_thread(second.get_job, SWEEP_JOB_ID) is None
    finally:
        # Both threads end before their engines close, so no job-store connection outlives them.
        for scheduler in (first, second):
            await asyncio.to_thread(scheduler.shutdown, wait=True)
        for engine in engines:
            await asyncio.to_thread(engine.dispose)
