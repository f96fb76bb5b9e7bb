"""Run a callback once the session's transaction has committed (never after a rollback).

Usage::

    after_commit(session, projector.wake)

Callbacks run in the committing thread, in registration order, each at most once per commit.
"""

from __future__ import annotations

from collections.abc import Callable

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
