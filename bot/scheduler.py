"""Timers that survive restarts: an apscheduler (3.x) scheduler whose jobs live in the database,
run by exactly one worker (a lease in the database elects it).

Usage (the composition root)::

    setup_situation_room(dispatcher, settings, session_factory)    # middleware + start/stop

One persistent job, ``bot.scheduler:run_sweep``, runs every ``sweep_seconds``: it opens topics
the intake hook missed, posts due escalation steps, asks due follow-ups and posts the shift
hand-over. Every timer's state is a row (``incident_deadline``, ``incident_followup``,
``shift_handover``), so the sweep catches up with whatever came due while the bot was down;
the job itself is stored with ``coalesce=True`` and no misfire limit, so a run missed while
down fires once on start. Jobs are plain functions referenced as ``module:function`` that open
their own session.

The job store is synchronous SQLAlchemy. Its queries must never run on the event loop: with
SQLite a blocked loop cannot finish the async transaction that holds the write lock, and both
wait until the busy timeout. So the scheduler is a ``BackgroundScheduler`` (its own thread for
the job store), every call into it goes through ``asyncio.to_thread``, and the job hands the
sweep coroutine back to the bot's event loop with ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.pool import NullPool

from bot.middlewares.roles import RoleMiddleware, build_room, room_settings
from bot.settings import Settings
from handlers.citizen.convert import intake_config
from situation.clock import Clock
from situation.deadlines import Escalation, escalate_due
from situation.followup import ask_due
from situation.handover import handover_due
from situation.intake import IntakeConfig, file_stale_drafts, note_unshown_live_locations
from situation.privacy import purge_expired
from situation.staffroom import RoomConfig, StaffRoom, recover_topics, sync_topics
from storage.engine import split_search_path
from storage.escalations import hold_lease, release_lease, try_lease
from storage.migrate import JOB_STORE_TABLE

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "situation-sweep"
SWEEP_JOB = "bot.scheduler:run_sweep"
LEASE_NAME = "scheduler"
JOBS_TABLE = JOB_STORE_TABLE


def sync_url(url: str) -> str:
    """Turn the application's async database URL into one for the synchronous job store."""
    parsed, search_path = split_search_path(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        converted: URL = parsed.set(drivername="postgresql+psycopg")
        if search_path:
            converted = converted.update_query_dict({"options": f"-csearch_path={search_path}"})
        return converted.render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL for the job store: {backend}")


@dataclass(frozen=True)
class LeaseFence:
    """The lease a sweep must still hold when it commits: only the leader's sweep counts."""

    owner: str
    lease: timedelta
    name: str = LEASE_NAME


class LeaseLost(Exception):
    """The sweep's worker no longer holds the scheduler lease: its work was rolled back."""


@dataclass
class SweepReport:
    """What one sweep did."""

    topics: int = 0
    recovered: int = 0
    escalations: list[Escalation] = field(default_factory=list)
    followups: int = 0
    handover: bool = False


@dataclass
class SweepContext:
    """The live objects the persistent job needs (set when this worker leads)."""

    session_factory: async_sessionmaker[Any]
    room: RoomConfig
    clock: Clock
    loop: asyncio.AbstractEventLoop | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    intake: IntakeConfig | None = None
    last_purge: datetime | None = None
    fence: LeaseFence | None = None


_context: SweepContext | None = None


def set_sweep_context(context: SweepContext | None) -> None:
    """Tell the job which database, room and clock to use in this process."""
    global _context  # one scheduler per process
    _context = context


async def sweep_once(
    *,
    session_factory: async_sessionmaker[Any],
    room: RoomConfig,
    now: datetime,
    lock: asyncio.Lock | None = None,
    fence: LeaseFence | None = None,
) -> SweepReport:
    """Run every due timer once, in one transaction (committed only while ``fence`` holds).

    Raises :class:`LeaseLost` (everything rolled back) when the worker lost the lease during
    the sweep, say while paused: the new leader's sweep does the work instead.
    """
    guard = lock or asyncio.Lock()
    async with guard, session_factory() as session, session.begin():
        if fence is not None and session.get_bind().dialect.name == "postgresql":
            # A sweep paused mid-transaction (SIGSTOP, a frozen VM) would keep the rows it
            # wrote locked and the new leader's sweep waiting on them; the server ends it.
            idle = max(1, int(fence.lease.total_seconds() * 1000))
            await session.exec(text(f"SET LOCAL idle_in_transaction_session_timeout = {idle}"))
        report = SweepReport()
        report.recovered = await recover_topics(session=session, room=room, now=now)
        report.topics = (await sync_topics(session=session, room=room, now=now)).posted
        report.escalations = await escalate_due(session=session, now=now, room=room)
        report.followups = await ask_due(session=session, now=now)
        handover = await handover_due(
            session=session,
            room=room,
            now=now,
            mode=room.handover_mode,
        )
        report.handover = handover is not None
        if fence is not None and not await hold_lease(
            session=session, name=fence.name, owner=fence.owner, now=now, lease=fence.lease
        ):
            raise LeaseLost(fence.owner)
    return report


SWEEP_TIMEOUT_SECONDS = 120.0


PURGE_EVERY = timedelta(hours=1)


async def run_citizen_timers(context: SweepContext, now: datetime) -> tuple[int, int]:
    """File quiet drafts (opening their topics), show staff live locations' held-back places,
    and hourly purge data past retention."""
    intake = context.intake
    if intake is None:
        return 0, 0
    async with context.session_factory() as session, session.begin():
        listeners = (StaffRoom(context.room),)
        filed = await file_stale_drafts(
            session=session, now=now, config=intake, listeners=listeners
        )
        await note_unshown_live_locations(session=session, now=now, listeners=listeners)
    purged = citizens = 0
    if context.last_purge is None or now - context.last_purge >= PURGE_EVERY:
        summary = await purge_expired(
            session_factory=context.session_factory,
            now=now,
            retention_days=intake.retention_days,
            media_dir=intake.media_dir,
        )
        purged, citizens = summary.reports, summary.citizens
        context.last_purge = now
    if filed or purged or citizens:
        log.info(
            "citizen timers: %d drafts filed, %d reports purged, %d quiet citizens anonymised",
            filed,
            purged,
            citizens,
        )
    return filed, purged


async def sweep_with_context(context: SweepContext) -> SweepReport | None:
    """Sweep with a context's database, room and clock; log instead of raising."""
    try:
        await run_citizen_timers(context, context.clock.now())
    except Exception:
        log.exception("citizen timers failed")
    try:
        report = await sweep_once(
            session_factory=context.session_factory,
            room=context.room,
            now=context.clock.now(),
            lock=context.lock,
            fence=context.fence,
        )
    except LeaseLost:
        log.warning("sweep rolled back: this worker lost the scheduler lease meanwhile")
        return None
    except Exception:
        log.exception("situation-room sweep failed")
        return None
    if (
        report.escalations
        or report.topics
        or report.recovered
        or report.followups
        or report.handover
    ):
        log.info(
            "sweep: %d topics, %d escalations, %d follow-ups, handover=%s",
            report.topics,
            len(report.escalations),
            report.followups,
            report.handover,
        )
    return report


def run_sweep() -> None:
    """The persistent job (scheduler thread): run the sweep on the bot's event loop."""
    context = _context
    if context is None or context.loop is None or context.loop.is_closed():
        log.warning("sweep skipped: no scheduler context in this process")
        return
    future = asyncio.run_coroutine_threadsafe(sweep_with_context(context), context.loop)
    try:
        future.result(timeout=SWEEP_TIMEOUT_SECONDS)
    except Exception:  # the loop stopped or the sweep hung: the next run catches up
        future.cancel()
        log.exception("sweep did not finish")


def create_job_store_engine(database_url: str) -> Engine:
    """Build the synchronous engine of the job store."""
    url = sync_url(database_url)
    connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
    # No pool: the job store touches the database every sweep at most, and a pooled connection
    # would outlive a scheduler whose worker stops without a clean shutdown.
    return create_sync_engine(url, connect_args=connect_args, poolclass=NullPool)


def create_scheduler(database_url: str, engine: Engine | None = None) -> BackgroundScheduler:
    """Build the scheduler with its job store on the application's database."""
    engine = engine or create_job_store_engine(database_url)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=UTC,
    )


def ensure_sweep_job(scheduler: BackgroundScheduler, *, seconds: float) -> None:
    """Add the sweep job, or run the stored one now: what came due while down fires once."""
    stored = scheduler.get_job(SWEEP_JOB_ID)
    if stored is not None:
        stored.modify(next_run_time=datetime.now(UTC))
        return
    scheduler.add_job(
        SWEEP_JOB,
        "interval",
        seconds=seconds,
        id=SWEEP_JOB_ID,
        name="situation-room sweep",
        next_run_time=datetime.now(UTC),
    )


def start_scheduler(scheduler: BackgroundScheduler, *, sweep_seconds: float) -> None:
    """Start the scheduler and make sure the sweep job exists (blocking: run in a thread)."""
    scheduler.start()
    ensure_sweep_job(scheduler, seconds=sweep_seconds)


# The leader renews every DEFAULT_CHECK and keeps the lease through four missed renewals (a
# database hiccup, a stalled event loop); a standby checks as often, so after the leader dies
# another takes over within DEFAULT_LEASE + DEFAULT_CHECK. A short lease is safe: a sweep
# commits only while its worker still holds the lease (LeaseFence), and a deadline's step
# advances only once (storage.escalations.advance_deadline).
DEFAULT_LEASE = timedelta(seconds=10)
DEFAULT_CHECK = timedelta(seconds=2)


class SchedulerService:
    """Run the scheduler in the one worker that holds the database lease."""

    def __init__(
        self,
        *,
        database_url: str,
        session_factory: async_sessionmaker[Any],
        room: RoomConfig,
        clock: Clock,
        worker_id: str,
        sweep_seconds: float = 15.0,
        lease: timedelta = DEFAULT_LEASE,
        check_every: timedelta = DEFAULT_CHECK,
        intake: IntakeConfig | None = None,
    ) -> None:
        self.database_url = database_url
        self.session_factory = session_factory
        self.context = SweepContext(
            session_factory=session_factory,
            room=room,
            clock=clock,
            intake=intake,
            fence=LeaseFence(owner=worker_id, lease=lease),
        )
        self.worker_id = worker_id
        self.sweep_seconds = sweep_seconds
        self.lease = lease
        self.check_every = check_every
        self.scheduler: BackgroundScheduler | None = None
        self._engine: Engine | None = None
        self._task: asyncio.Task[None] | None = None
        # A scheduler's start runs in a thread that a cancelled step does not stop.
        self._starting: asyncio.Future[None] | None = None

    @property
    def leading(self) -> bool:
        """Whether this worker runs the scheduler now."""
        return self.scheduler is not None

    async def _renew(self) -> bool:
        now = self.context.clock.now()
        async with self.session_factory() as session, session.begin():
            return await try_lease(
                session=session, name=LEASE_NAME, owner=self.worker_id, now=now, lease=self.lease
            )

    async def step(self) -> bool:
        """Renew or take the lease; start or stop the scheduler to match. Return leadership."""
        try:
            leader = await self._renew()
        except Exception:
            log.exception("scheduler lease check failed")
            leader = False
        if leader and self.scheduler is None:
            self.context.loop = asyncio.get_running_loop()
            set_sweep_context(self.context)
            self._engine = create_job_store_engine(self.database_url)
            scheduler = create_scheduler(self.database_url, self._engine)
            # Known before it starts, so a stop that cancels this step still shuts it down.
            self.scheduler = scheduler
            self._starting = asyncio.ensure_future(
                asyncio.to_thread(start_scheduler, scheduler, sweep_seconds=self.sweep_seconds)
            )
            await asyncio.shield(self._starting)
            log.info("worker %s leads the scheduler", self.worker_id)
        elif not leader and self.scheduler is not None:
            await self._shutdown()
            log.warning("worker %s lost the scheduler lease", self.worker_id)
        return leader

    async def _shutdown(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        engine, self._engine = self._engine, None
        starting, self._starting = self._starting, None
        if starting is not None:
            # Shutting down a scheduler whose start is still running in its thread fails
            # ("cannot join thread before it is started"): let the start finish first.
            await asyncio.wait([starting])
        if scheduler is not None:
            # Wait for a running job, so no job-store connection outlives the engine.
            await asyncio.to_thread(_shutdown_scheduler, scheduler)
        if engine is not None:
            # apscheduler's thread may have opened a connection after the store was shut down
            await asyncio.to_thread(engine.dispose)

    async def _run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.check_every.total_seconds())

    async def start(self) -> None:
        """Start competing for the lease in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="scheduler-lease")

    async def stop(self) -> None:
        """Stop the scheduler and give up the lease."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        was_leading = self.leading
        await self._shutdown()
        if was_leading:
            set_sweep_context(None)
            with contextlib.suppress(Exception):
                async with self.session_factory() as session, session.begin():
                    await release_lease(
                        session=session,
                        name=LEASE_NAME,
                        owner=self.worker_id,
                    )


def default_worker_id() -> str:
    """Name this worker for the lease: host, pid and a random part (several per process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def setup_situation_room(
    dispatcher: Dispatcher,
    settings: Settings,
    session_factory: async_sessionmaker[Any],
    *,
    staff_room_wake: Callable[[], None] | None = None,
) -> None:
    """Install the role middleware and start/stop the rights check and the scheduler."""
    from bot.rights import announce_rights

    dispatcher.update.outer_middleware(RoleMiddleware(settings, staff_room_wake=staff_room_wake))
    section = room_settings(settings)
    holder: dict[str, SchedulerService] = {}

    async def on_startup(bot: Bot, **data: Any) -> None:
        room = build_room(settings)
        clock = data.get("clock") or Clock()
        await announce_rights(bot=bot, room=room, session_factory=session_factory, now=clock.now())
        service = SchedulerService(
            database_url=settings.database_url,
            session_factory=session_factory,
            room=room,
            clock=clock,
            worker_id=str(data.get("worker_id") or default_worker_id()),
            sweep_seconds=section.sweep_seconds,
            lease=timedelta(seconds=section.scheduler_lease_seconds),
            check_every=timedelta(seconds=section.scheduler_check_seconds),
            intake=intake_config(settings),
        )
        holder["service"] = service
        dispatcher["scheduler_service"] = service
        await service.start()

    async def on_shutdown(**_: Any) -> None:
        service = holder.pop("service", None)
        if service is not None:
            await service.stop()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)


def _shutdown_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop a scheduler that may or may not have started, waiting for its running jobs."""
    with contextlib.suppress(SchedulerNotRunningError):
        scheduler.shutdown(wait=True)
