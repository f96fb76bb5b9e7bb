"""after_commit: a callback runs once the session's transaction commits, never after a rollback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.commit_hooks import after_commit
from storage.models.chats import ChatState

Factory = async_sessionmaker[AsyncSession]


class Calls:
    """Callbacks that record their own name when called."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def callback() -> None:
            self.log.append(name)

        setattr(self, name, callback)
        return callback


async def test_runs_once_after_commit(session_factory: Factory) -> None:
    """Nothing runs before the commit; the callback runs once right after it."""
    calls = Calls()
    async with session_factory() as session:
        session.add(ChatState(chat_id=1))
        after_commit(session, calls.wake)
        await session.flush()
        assert calls.log == []
        await session.commit()
        assert calls.log == ["wake"]
    assert calls.log == ["wake"]


async def test_never_runs_after_a_rollback(session_factory: Factory) -> None:
    """A rolled-back transaction drops its callbacks, also for the session's next commit."""
    calls = Calls()
    async with session_factory() as session:
        after_commit(session, calls.wake)
        session.add(ChatState(chat_id=1))
        await session.flush()
        await session.rollback()
        assert calls.log == []
        session.add(ChatState(chat_id=2))
        await session.commit()
    assert calls.log == []

    with pytest.raises(RuntimeError):
        async with session_factory() as session, session.begin():
            after_commit(session, calls.wake)
            raise RuntimeError("the handler failed")
    assert calls.log == []


async def test_registered_twice_runs_once(session_factory: Factory) -> None:
    """The same callback registered again (also through the sync session) runs once."""
    calls = Calls()
    async with session_factory() as session, session.begin():
        after_commit(session, calls.wake)
        after_commit(session, calls.wake)
        after_commit(session.sync_session, calls.wake)
    assert calls.log == ["wake"]


async def test_callbacks_run_in_registration_order(session_factory: Factory) -> None:
    """Different callbacks all run, in the order they were registered."""
    calls = Calls()
    async with session_factory() as session, session.begin():
        after_commit(session, calls.second)
        after_commit(session, calls.first)
        after_commit(session, calls.third)
    assert calls.log == ["second", "first", "third"]


async def test_not_carried_into_the_next_transaction(session_factory: Factory) -> None:
    """After its commit the callback is gone: the session's next commit does not call it."""
    calls = Calls()
    async with session_factory() as session:
        after_commit(session, calls.wake)
        await session.commit()
        assert calls.log == ["wake"]
        session.add(ChatState(chat_id=1))
        await session.commit()
        assert calls.log == ["wake"]
        after_commit(session, calls.wake)
        await session.commit()
    assert calls.log == ["wake", "wake"]


async def test_sessions_keep_their_own_callbacks(session_factory: Factory) -> None:
    """A callback registered on one session does not run when another session commits."""
    calls = Calls()
    async with session_factory() as first, session_factory() as second:
        after_commit(first, calls.first)
        after_commit(second, calls.second)
        await second.commit()
        assert calls.log == ["second"]
        await first.rollback()
    assert calls.log == ["second"]


async def test_savepoint_release_is_not_the_commit(session_factory: Factory) -> None:
    """Releasing a savepoint does not run the callback; only the outer commit would."""
    calls = Calls()
    async with session_factory() as session:
        await session.begin()
        after_commit(session, calls.wake)
        async with session.begin_nested():
            session.add(ChatState(chat_id=1))
        assert calls.log == []
        await session.rollback()
    assert calls.log == []


async def test_savepoint_rollback_keeps_the_outer_callbacks(session_factory: Factory) -> None:
    """A failed savepoint does not cancel the callbacks of the transaction that commits."""
    calls = Calls()
    async with session_factory() as session:
        await session.begin()
        after_commit(session, calls.wake)
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                raise RuntimeError("insert-or-ignore lost the race")
        await session.commit()
    assert calls.log == ["wake"]
