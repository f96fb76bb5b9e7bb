"""The running application: engine, bot, dispatcher, sender and background services together.

Usage::

    runtime = await build_runtime(settings)
    try:
        await runtime.run_polling()
    finally:
        await runtime.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import create_bot, create_dispatcher
from bot.middlewares.admission import AdmissionMiddleware
from bot.middlewares.roles import build_room
from bot.projector import StaffRoomProjector
from bot.sender import Sender
from bot.settings import Settings
from community.hub_work import HubWork
from situation.clock import Clock
from situation.failures import FailureRecorder
from situation.file_release import FileReleaser
from situation.scenarios import warm_up
from storage.engine import create_engine, create_session_factory
from storage.outbox import OutboxSignal

log = logging.getLogger(__name__)

# How long a stopping poller waits for the updates it fetched (a backlog of a few hundred takes
# seconds; systemd's default stop timeout is 90 s).
FINISH_SECONDS = 60.0

SENDER_STOP_SECONDS = 10.0

RELEASE_STOP_SECONDS = 10.0
"""How long a stopping worker waits for erased files being deleted (the purge finishes the rest)."""


async def stop_sender(sender: Sender) -> None:
    """Stop ``sender``, waiting at most ``SENDER_STOP_SECONDS`` for the sends in flight.

    A chat held by a long rate-limit wait is not worth blocking shutdown for: its row's lease
    expires and it is sent again.
    """
    try:
        await asyncio.wait_for(sender.stop(), timeout=SENDER_STOP_SECONDS)
    except TimeoutError:
        log.warning("sender did not stop within %ss; leases will expire", SENDER_STOP_SECONDS)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event, *, enabled: bool = True) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while the block runs (nothing when not ``enabled``)."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)


@dataclass(frozen=True)
class Outbound:
    """A process's database, its bot and the outbox sender over them (worker or ``jikimi send``)."""

    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    signal: OutboxSignal
    bot: Bot
    sender: Sender


def build_outbound(settings: Settings, *, worker_id: str) -> Outbound:
    """Open the database (a pool of ``database_pool_size``) and build the bot and its sender."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    session_factory = create_session_factory(engine)
    signal = OutboxSignal()
    signal.attach(session_factory)
    bot = create_bot(settings)
    sender = Sender(
        bot=bot,
        session_factory=session_factory,
        settings=settings.sender,
        signal=signal,
        worker_id=worker_id,
    )
    return Outbound(engine, session_factory, signal, bot, sender)


def default_worker_id() -> str:
    """Name this process for leases and locks: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Runtime:
    """Everything one worker process runs, built by :func:`build_runtime`."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    sender: Sender
    signal: OutboxSignal
    projector: StaffRoomProjector
    clock: Clock
    worker_id: str
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _started: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.dispatcher.startup.register(self._on_startup)

    async def _on_startup(self) -> None:
        self._started.set()

    async def wait_started(self) -> None:
        """Wait until the dispatcher has started (startup hooks done)."""
        await self._started.wait()

    @property
    def file_releaser(self) -> FileReleaser:
        """The deletion of erased media files after their transaction commits."""
        releaser = self.dispatcher["file_releaser"]
        assert isinstance(releaser, FileReleaser)
        return releaser

    @property
    def hub_work(self) -> HubWork:
        """The experts' hub calls made after the transactions that asked for them commit."""
        work = self.dispatcher["hub_work"]
        assert isinstance(work, HubWork)
        return work

    @property
    def admission(self) -> AdmissionMiddleware:
        """The dispatcher's admission of updates: how many run and how many wait."""
        admission = self.dispatcher["admission"]
        assert isinstance(admission, AdmissionMiddleware)
        return admission

    def dispatcher_busy(self) -> bool:
        """Tell whether updates are being handled right now."""
        return bool(self.dispatcher._handle_update_tasks)  # aiogram has no public probe

    def busy(self) -> bool:
        """Tell whether updates are handled, the staff room catches up, erased files go or
        the experts' hub is called after a commit."""
        return (
            self.dispatcher_busy()
            or self.projector.busy()
            or self.file_releaser.busy()
            or self.hub_work.busy()
        )

    async def start_services(self) -> None:
        """Start the sender (unless ``jikimi send`` sends) and the staff-room projector."""
        if self.settings.sender.in_worker:
            await self.sender.start()
        await self.projector.start()

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Poll for updates until stopped, with every background service running."""
        await self.remove_webhook()
        await self.start_services()
        try:
            await self.dispatcher.start_polling(
                self.bot,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                handle_signals=handle_signals,
                close_bot_session=False,
                polling_timeout=25,
                tasks_concurrency_limit=self.settings.telegram.max_waiting_updates,
            )
        finally:
            await self.finish_fetched_updates()

    async def remove_webhook(self) -> None:
        """Remove a webhook left by webhook mode: Telegram refuses getUpdates while one is set.

        Its pending updates stay queued (``drop_pending_updates=False``) for polling to fetch.
        """
        info = await self.bot.get_webhook_info()
        if info.url:
            log.warning("a webhook was set (%s): removing it to poll instead", info.url)
            await self.bot.delete_webhook(drop_pending_updates=False)

    async def finish_fetched_updates(self, within: float = FINISH_SECONDS) -> None:
        """Let the updates polling fetched run to their end before the services stop.

        Polling confirms a batch of updates to Telegram when it asks for the next, so the
        updates still waiting for their turn (``max_waiting_updates``) exist nowhere else.
        """
        tasks = set(self.dispatcher._handle_update_tasks)  # aiogram has no public accessor
        if not tasks:
            return
        log.info("stopping: finishing %d fetched updates first", len(tasks))
        _done, pending = await asyncio.wait(tasks, timeout=within)
        if pending:
            log.warning("stopping with %d fetched updates unfinished", len(pending))

    async def stop_polling(self) -> None:
        """Ask a running poller to stop."""
        if self.dispatcher._running_lock.locked():  # aiogram has no public probe
            await self.dispatcher.stop_polling()

    async def close(self) -> None:
        """Stop services and release every connection."""
        await self.projector.stop()
        try:
            await asyncio.wait_for(self.file_releaser.wait(), timeout=RELEASE_STOP_SECONDS)
        except TimeoutError:
            log.warning("erased files still being deleted at stop; the next purge deletes them")
        try:
            await asyncio.wait_for(self.hub_work.wait(), timeout=RELEASE_STOP_SECONDS)
        except TimeoutError:
            log.warning("hub calls still running at stop; the next community sweep catches up")
        await stop_sender(self.sender)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


async def build_runtime(
    settings: Settings, *, clock: Clock | None = None, worker_id: str | None = None
) -> Runtime:
    """Build a worker from settings; the database must already be migrated."""
    warm_up()
    clock = clock or Clock()
    worker = worker_id or default_worker_id()
    outbound = build_outbound(settings, worker_id=worker)
    session_factory = outbound.session_factory
    projector = StaffRoomProjector(
        session_factory=session_factory,
        room=build_room(settings),
        clock=clock,
        batch=settings.situation_room.projector_batch,
        interval=settings.situation_room.projector_interval_seconds,
    )
    dispatcher = create_dispatcher(
        settings,
        session_factory,
        staff_room_wake=projector.wake,
        clock=clock,
        failures=FailureRecorder(session_factory),
    )
    return Runtime(
        settings=settings,
        engine=outbound.engine,
        session_factory=session_factory,
        bot=outbound.bot,
        dispatcher=dispatcher,
        sender=outbound.sender,
        signal=outbound.signal,
        projector=projector,
        clock=clock,
        worker_id=worker,
    )
