"""The staff-room projector: posts citizens' reports into the incident topics after they commit.

A citizen's update stores the report and queues the citizen's answers; it does not wait for the
situation room. Its commit wakes this service, which runs :func:`situation.staffroom.sync_topics`
in its own transaction: it opens topics, posts joining reports and relays new messages. Under a
surge the passes are spaced by ``interval`` so citizens' transactions go first, and each pass
takes many reports at once, so an incident's card is redrawn once per pass, not once per report.
While the staff group's queue is full (Telegram delivers about 20 messages a minute to a group),
a pass posts nothing and the projector looks again every ``recheck`` seconds: the reports that
gather meanwhile go out together, one digest per incident, instead of a backlog of hours.
The periodic sweep runs the same function and catches whatever a crash left behind.

    projector = StaffRoomProjector(session_factory=factory, room=room, clock=clock)
    await projector.start()      # listeners built with wake=projector.wake
    ...
    await projector.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from situation.clock import Clock
from situation.staffroom import RoomConfig, RoomSync, sync_topics
from storage.wakeup import Wakeup

log = logging.getLogger(__name__)

TASK_NAME = "staff-room-projector"


class StaffRoomProjector:
    """Bring the situation room up to date after citizens' transactions commit."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[Any],
        room: RoomConfig,
        clock: Clock,
        batch: int = 50,
        interval: float = 0.2,
        retry_after: float = 2.0,
        recheck: float = 1.0,
    ) -> None:
        self._session_factory = session_factory
        self._room = room
        self._clock = clock
        self._batch = batch
        self._interval = interval
        self._retry_after = retry_after
        self._recheck = recheck
        self._wanted = Wakeup()
        self._stopping = asyncio.Event()
        self._running = False
        self._task: asyncio.Task[None] | None = None
        self.passes = 0
        self.posted = 0
        self.deferred = 0

    def wake(self) -> None:
        """Ask for a pass (called after a citizen's transaction commits; thread-safe)."""
        self._wanted.set()

    def busy(self) -> bool:
        """Whether a pass is running or asked for."""
        return self._running or self._wanted.is_set()

    async def start(self) -> None:
        """Run the projector in a background task."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=TASK_NAME)

    async def stop(self) -> None:
        """Finish the pass in progress and stop."""
        self._stopping.set()
        self._wanted.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Run passes whenever asked, until :meth:`stop`."""
        while True:
            await self._wanted.wait()
            if self._stopping.is_set():
                return
            self._running = True
            try:
                result = await self.run_pass()
            except Exception:  # the database is briefly down: the reports wait, nothing is lost
                log.warning("staff-room pass failed; retrying", exc_info=True)
                self._wanted.set()
                await self._pause(self._retry_after)
                continue
            finally:
                self._running = False
            if result.deferred:
                self._wanted.set()  # reports may be waiting: look again once the queue moved
                await self._pause(self._recheck)
                continue
            if result.posted >= self._batch:
                self._wanted.set()  # more is waiting
            if result.posted:
                await self._pause(self._interval)

    async def run_pass(self) -> RoomSync:
        """Post up to one batch of pending reports in one transaction."""
        async with self._session_factory() as session, session.begin():
            result = await sync_topics(
                session=session, room=self._room, now=self._clock.now(), limit=self._batch
            )
        self.passes += 1
        self.posted += result.posted
        self.deferred += int(result.deferred)
        return result

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a stop begins meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
