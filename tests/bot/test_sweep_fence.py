"""A sweep commits only while its worker holds the scheduler lease, and two sweeps that race
on the same due deadline post its escalation once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

import situation.deadlines as deadlines_module
from bot.scheduler import LeaseFence, LeaseLost, sweep_once
from situation.intake import IntakeConfig
from storage.escalations import try_lease
from storage.models.escalations import IncidentDeadline, SchedulerLease
from tests.situation.conftest import START, Steps
from tests.situation.test_staffroom import ROOM, Room

LEASE = timedelta(seconds=10)
DUE = START + timedelta(minutes=10)  # every escalation step of the report below is due


async def _incident(session_factory: Any, tmp_path: Path) -> tuple[Room, int]:
    room = Room(Steps(session_factory, IntakeConfig(media_dir=tmp_path)))
    await room.seed()
    incident = await room.report(501, "건물에 불이 났어요 연기가 나요")
    assert incident.id is not None
    return room, incident.id


async def _lead(session_factory: Any, owner: str) -> LeaseFence:
    """Make ``owner`` the leader: the lease expires first, as when the old leader stalls.

    The sweeps' clock says ``DUE``: SQLite judges the lease by it, PostgreSQL by its own.
    """
    async with session_factory() as session, session.begin():
        await session.exec(update(SchedulerLease).values(until=datetime(2000, 1, 1, tzinfo=UTC)))
    async with session_factory() as session, session.begin():
        assert await try_lease(session=session, name="scheduler", owner=owner, now=DUE, lease=LEASE)
    return LeaseFence(owner=owner, lease=LEASE)


async def _escalations(room: Room, incident_id: int) -> list[Any]:
    return [e for e in await room.events(incident_id) if e.action == "escalation"]


async def test_a_sweep_of_a_worker_that_lost_the_lease_commits_nothing(
    session_factory: Any, tmp_path: Path
) -> None:
    room, incident_id = await _incident(session_factory, tmp_path)
    old = await _lead(session_factory, "old")
    new = await _lead(session_factory, "new")  # old stalled past its lease
    await room.staff_rows()  # what the report queued

    with pytest.raises(LeaseLost):
        await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=old)
    assert await _escalations(room, incident_id) == []
    assert await room.staff_rows() == []  # rolled back: no escalation message queued

    report = await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=new)
    assert len(report.escalations) == 1
    assert len(await _escalations(room, incident_id)) == 1


async def test_two_racing_sweeps_escalate_each_step_once(
    session_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old leader reads the due deadline and pauses (SIGSTOP); it resumes beside the new
    leader's sweep: it rolls back, and the step is posted once, by the new leader.

    Whichever sweep claims the incident first, the other skips it (``claim_incident`` takes
    the row with SKIP LOCKED): when the old one had it, the new leader posts it at its next
    sweep.
    """
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN: two sweeps cannot interleave")
    room, incident_id = await _incident(session_factory, tmp_path)
    old = await _lead(session_factory, "old")
    paused, resume = asyncio.Event(), asyncio.Event()
    real_claim_incident = deadlines_module.claim_incident

    async def pausing_claim_incident(**kwargs: Any) -> Any:
        if not resume.is_set():  # only the old leader's sweep, which runs first
            paused.set()
            await resume.wait()
        return await real_claim_incident(**kwargs)

    monkeypatch.setattr(deadlines_module, "claim_incident", pausing_claim_incident)
    old_sweep = asyncio.create_task(
        sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=old)
    )
    async with asyncio.timeout(10):
        await paused.wait()  # it read the due deadline
    new = await _lead(session_factory, "new")
    resume.set()
    # Both sweeps read the same due step; the new one's clock is the same.
    first = await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=new)
    with pytest.raises(LeaseLost):
        await old_sweep
    second = await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=new)
    assert len(first.escalations) + len(second.escalations) == 1
    assert len(await _escalations(room, incident_id)) == 1


async def test_a_step_advanced_meanwhile_is_not_posted_again(
    session_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even holding the lease, a sweep that read a step another sweep has since posted skips
    it (the old leader took the lease back after the new one died)."""
    room, incident_id = await _incident(session_factory, tmp_path)
    fence = await _lead(session_factory, "w")
    await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=fence)
    assert len(await _escalations(room, incident_id)) == 1

    async def due_as_read_before(*, session: Any, now: datetime) -> Any:
        deadline = await session.get(IncidentDeadline, incident_id)
        assert deadline is not None and deadline.step >= 1
        set_committed_value(deadline, "step", 0)  # as read before the first sweep posted
        return [deadline]

    monkeypatch.setattr(deadlines_module, "due_deadlines", due_as_read_before)
    report = await sweep_once(session_factory=session_factory, room=ROOM, now=DUE, fence=fence)
    assert report.escalations == []
    assert len(await _escalations(room, incident_id)) == 1
