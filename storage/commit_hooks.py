"""Run a callback once the session's transaction has committed (never after a rollback).

Usage::

    after_commit(session, projector.wake)

    tasks = CommittedTasks()
    tasks.start_after_commit(session, "release-files", lambda: release(files))
    await tasks.wait()  # every task started so far has ended

Callbacks run in the committing thread, in registration order, each at most once per commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

_CALLBACKS_KEY = "jikimi.after_commit"


def after_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the session's current transaction commits."""
    _install()
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    callbacks: list[Callable[[], None]] = sync.info.setdefault(_CALLBACKS_KEY, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _run_callbacks(session: Session) -> None:
    if session.in_nested_transaction():  # a released SAVEPOINT: the real commit is still to come
        return
    for callback in session.info.pop(_CALLBACKS_KEY, []):
        callback()


def _drop_callbacks(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back: the outer transaction goes on
        return
    session.info.pop(_CALLBACKS_KEY, None)


def _install() -> None:
    if not event.contains(Session, "after_commit", _run_callbacks):
        event.listen(Session, "after_commit", _run_callbacks)
        event.listen(Session, "after_rollback", _drop_callbacks)


class CommittedTasks:
    """Tasks started on the event loop once a transaction commits, tracked until they end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scheduled = 0

    def start_after_commit(
        self, session: AsyncSession | Session, name: str, work: Callable[[], Awaitable[Any]]
    ) -> None:
        """Start ``work()`` as a task named ``name`` once ``session``'s transaction commits."""
        loop = asyncio.get_running_loop()

        def committed() -> None:
            self._scheduled += 1
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._start(name, work)
            else:  # committed in another thread (a sync session): start on the session's loop
                loop.call_soon_threadsafe(self._start, name, work)

        after_commit(session, committed)

    def _start(self, name: str, work: Callable[[], Awaitable[Any]]) -> None:
        self._scheduled -= 1
        task = asyncio.ensure_future(work())
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def busy(self) -> bool:
        """Whether a task is waiting to start or running."""
        return self._scheduled > 0 or bool(self._tasks)

    async def wait(self) -> None:
        """Wait until every task started so far has ended."""
        while self.busy():
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            else:
                await asyncio.sleep(0)
