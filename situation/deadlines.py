"""Acknowledgement deadlines that escalate: the on-duty team, then the shift lead, then everyone.

Usage (the periodic sweep, in its own transaction)::

    fired = await escalate_due(session=session, now=clock.now(), room=room)

An incident opened at ``t`` with acknowledgement time ``a`` (per priority) mentions the on-duty
team in its topic at ``t + a``, the shift lead at ``t + 2a`` and everyone at ``t + 3a``, with a
digest of unacknowledged incidents in the General topic. Taking (or escalating to an agency,
or closing) cancels the chain. The state lives in ``incident_deadline``, so it survives a
restart; steps that came due while nobody swept fire once, as the latest step only.

A priority change moves the chain to the new priority's ladder, the next step never sooner
than one acknowledgement time of the new priority after the change, the following ones that
time apart: raising a long-open incident never fires more than one step at once.

The clock starts when the incident opens. A merge of two unacknowledged incidents keeps the
earlier clock on the target, with the steps either chain already posted (never posted again);
a merge that brings an acknowledgement into the target stops the target's chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import SYSTEM, record
from situation.cards import scenario_icon
from situation.limits import NAME_ROOM, clip, pack, paginate
from situation.roster import on_duty_members
from situation.staffroom import RoomConfig, Topic, post, refresh_card
from situation.texts import render
from storage.escalations import advance_deadline, due_deadlines, get_deadline, save_deadline
from storage.incidents import get_incident
from storage.models.escalations import IncidentDeadline
from storage.models.incidents import Incident, IncidentStatus
from storage.models.staff import StaffMember, StaffRole
from storage.staff import list_staff
from storage.topics import get_topic

STEPS = ("team", "lead", "everyone")


@dataclass(frozen=True)
class Escalation:
    """One escalation step posted for an incident."""

    incident_id: int
    step: int
    level: str
    mentioned: tuple[int, ...]


def step_time(due_at: datetime, ack_time: timedelta, step: int) -> datetime:
    """When step ``step`` (1-based) of the chain is due."""
    return due_at + ack_time * (step - 1)


async def cancel_deadline(
    *, session: AsyncSession, incident_id: int, now: datetime
) -> IncidentDeadline | None:
    """Stop an incident's escalation chain (acknowledged, handed over or closed)."""
    deadline = await get_deadline(session=session, incident_id=incident_id)
    if deadline is None or deadline.cancelled_at is not None:
        return deadline
    deadline.cancelled_at = now
    deadline.next_at = None
    deadline.updated_at = now
    return await save_deadline(session=session, deadline=deadline)


def rescheduled_next(
    *, opened_at: datetime, ack_time: timedelta, step: int, now: datetime
) -> datetime:
    """When step ``step + 1`` is due after a priority change at ``now`` (``step`` posted).

    The new priority's ladder from the opening, but never sooner than one acknowledgement
    time of the new priority after the change: a late raise must not find every step of the
    shorter ladder already due and fire the top one at once.
    """
    return max(step_time(opened_at + ack_time, ack_time, step + 1), now + ack_time)


def clock_start(deadline: IncidentDeadline, room: RoomConfig) -> datetime:
    """When the acknowledgement clock of a deadline started (the due time less its ack time)."""
    return deadline.due_at - room.ack_time(deadline.priority)


def _set_clock(
    deadline: IncidentDeadline, *, start: datetime, priority: str, room: RoomConfig
) -> None:
    """Point the deadline at ``start`` + the ack time of ``priority``, from the step it reached."""
    ack = room.ack_time(priority)
    deadline.priority = priority
    deadline.due_at = start + ack
    deadline.next_at = (
        step_time(deadline.due_at, ack, deadline.step + 1) if deadline.step < len(STEPS) else None
    )


async def reprioritise_deadline(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> None:
    """Move a running deadline to the incident's new priority (see :func:`rescheduled_next`)."""
    assert incident.id is not None
    deadline = await get_deadline(session=session, incident_id=incident.id)
    if deadline is None or deadline.cancelled_at is not None:
        return
    ack = room.ack_time(incident.priority)
    deadline.priority = incident.priority
    if deadline.step < len(STEPS):
        upcoming = rescheduled_next(
            opened_at=incident.opened_at, ack_time=ack, step=deadline.step, now=now
        )
        # The ladder restarts at the next step: the steps after it follow ``ack`` apart.
        deadline.due_at = upcoming - ack * deadline.step
        deadline.next_at = upcoming
    else:
        deadline.due_at = incident.opened_at + ack
        deadline.next_at = None
    deadline.updated_at = now
    await save_deadline(session=session, deadline=deadline)


async def merge_deadlines(
    *,
    session: AsyncSession,
    source: Incident,
    target: Incident,
    room: RoomConfig,
    now: datetime,
) -> None:
    """Give the target of a merge of two unacknowledged incidents the earlier running clock.

    The target's deadline starts when the earliest of the two started (each incident's own
    start: its opening, or an earlier clock merged into it before), at the target's priority
    after the merge, and counts the steps either chain already posted, so the merge neither
    restarts the chase nor posts a reminder twice; a step already due fires at the next sweep.
    """
    assert source.id is not None and target.id is not None
    if room.chat_id is None:  # no staff room: no topics, so no deadlines to chase in them
        return
    starts: list[datetime] = []
    step = 0
    for incident in (source, target):
        assert incident.id is not None
        found = await get_deadline(session=session, incident_id=incident.id)
        if found is not None and found.cancelled_at is None:
            starts.append(clock_start(found, room))
            step = max(step, found.step)
        else:
            starts.append(incident.opened_at)
    deadline = await get_deadline(session=session, incident_id=target.id)
    if deadline is None:  # the target's topic (and its deadline) is not opened yet
        deadline = IncidentDeadline(incident_id=target.id, priority=target.priority, due_at=now)
    deadline.cancelled_at = None
    deadline.step = step
    _set_clock(deadline, start=min(starts), priority=target.priority, room=room)
    deadline.updated_at = now
    await save_deadline(session=session, deadline=deadline)


async def restart_deadline(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> IncidentDeadline:
    """Run the acknowledgement chain again from ``now`` (a closed incident reopened)."""
    assert incident.id is not None
    due_at = now + room.ack_time(incident.priority)
    deadline = await get_deadline(session=session, incident_id=incident.id)
    if deadline is None:
        deadline = IncidentDeadline(incident_id=incident.id, priority=incident.priority, due_at=now)
    deadline.priority = incident.priority
    deadline.due_at = due_at
    deadline.step = 0
    deadline.next_at = due_at
    deadline.cancelled_at = None
    deadline.updated_at = now
    return await save_deadline(session=session, deadline=deadline)


def mention(member: StaffMember) -> Markup:
    """Return an HTML mention of a staff member (notifies them), the name cut to NAME_ROOM."""
    return Markup('<a href="tg://user?id={}">{}</a>').format(
        member.telegram_user_id, clip(member.name, NAME_ROOM)
    )


def mentions(members: list[StaffMember]) -> Markup:
    """Return mentions of several staff members, comma-separated."""
    return Markup(", ").join(mention(member) for member in members)


async def _people(
    session: AsyncSession, room: RoomConfig, level: str, now: datetime
) -> list[StaffMember]:
    everyone = list(await list_staff(session=session))
    if level == "everyone":
        return everyone
    team = await on_duty_members(session=session, roster=room.roster, now=now)
    if level == "team":
        return team or [m for m in everyone if m.role == StaffRole.STAFF] or everyone
    leads = [m for m in team if m.role in (StaffRole.LEAD, StaffRole.ADMIN)]
    return leads or [m for m in everyone if m.role == StaffRole.LEAD] or everyone


async def escalate_due(
    *, session: AsyncSession, now: datetime, room: RoomConfig
) -> list[Escalation]:
    """Post every escalation step due at ``now``; return what was posted."""
    fired: list[Escalation] = []
    digest_needed = False
    for deadline in await due_deadlines(session=session, now=now):
        incident = await get_incident(session=session, incident_id=deadline.incident_id)
        if incident is None or incident.status != IncidentStatus.NEW:
            await cancel_deadline(session=session, incident_id=deadline.incident_id, now=now)
            continue
        ack = room.ack_time(deadline.priority)
        step = deadline.step
        while step < len(STEPS) and step_time(deadline.due_at, ack, step + 1) <= now:
            step += 1
        if step == deadline.step:
            continue
        skipped = step - deadline.step - 1
        next_at = step_time(deadline.due_at, ack, step + 1) if step < len(STEPS) else None
        if not await advance_deadline(
            session=session, deadline=deadline, step=step, next_at=next_at, now=now
        ):
            continue  # another sweep posted this step (a leader that lost its lease)
        level = STEPS[step - 1]
        people = await _people(session, room, level, now)
        await _post_step(session, room, incident, level, people, deadline, now)
        await record(
            session=session,
            incident_id=deadline.incident_id,
            action="escalation",
            actor=SYSTEM,
            now=now,
            after={"step": step, "level": level, "skipped": skipped},
        )
        await refresh_card(session=session, incident=incident, room=room, now=now)
        fired.append(
            Escalation(
                incident_id=deadline.incident_id,
                step=step,
                level=level,
                mentioned=tuple(member.telegram_user_id for member in people),
            )
        )
        digest_needed = digest_needed or level == "everyone"
    if digest_needed:
        await post_digest(session=session, room=room, now=now)
    return fired


async def _post_step(
    session: AsyncSession,
    room: RoomConfig,
    incident: Incident,
    level: str,
    people: list[StaffMember],
    deadline: IncidentDeadline,
    now: datetime,
) -> None:
    assert incident.id is not None
    topic = await get_topic(session=session, incident_id=incident.id)
    if topic is None:
        return
    minutes = int((now - clock_start(deadline, room)).total_seconds() // 60)

    def step_text(run: Sequence[StaffMember]) -> str:
        return render(
            room.lang,
            "staff_escalation",
            level=level,
            mentions=mentions(list(run)),
            reference=incident.reference,
            priority=incident.priority,
            minutes=minutes,
        )

    # More people than one message can mention are mentioned in as many as it takes.
    for run in pack(people, step_text):
        await Topic(session=session, topic=topic).text(step_text(run))


async def unacknowledged(*, session: AsyncSession) -> list[Incident]:
    """Return open incidents nobody acknowledged yet, most urgent and oldest first."""
    statement = select(Incident).where(col(Incident.status) == IncidentStatus.NEW)
    rows = list((await session.exec(statement)).all())
    rows.sort(key=lambda row: (row.priority, row.opened_at))
    return rows


async def post_digest(*, session: AsyncSession, room: RoomConfig, now: datetime) -> None:
    """Post the digest of unacknowledged incidents in the General topic (in parts if long)."""
    if room.chat_id is None:
        return
    lines = [
        {
            "icon": scenario_icon(incident.scenario),
            "reference": incident.reference,
            "priority": incident.priority,
            "district": incident.district_name,
            "minutes": int((now - incident.opened_at).total_seconds() // 60),
        }
        for incident in await unacknowledged(session=session)
    ]
    everyone = list(await list_staff(session=session))
    # The list, then the mentions, in as many messages as Telegram's limit takes.
    entries: list[dict[str, Any] | StaffMember] = [*lines, *everyone]

    def part(run: Sequence[dict[str, Any] | StaffMember], number: int, count: int) -> str:
        return render(
            room.lang,
            "staff_digest",
            lines=[entry for entry in run if isinstance(entry, dict)],
            mentions=mentions([entry for entry in run if isinstance(entry, StaffMember)]),
            empty=not lines,
            part=number,
            parts=count,
        )

    for text in paginate(entries, part):
        await post(session=session, room=room, text=text)
