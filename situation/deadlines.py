"""Acknowledgement deadlines that escalate: the on-duty team, then the shift lead, then everyone.

Usage (the periodic sweep, in its own transaction)::

    fired = await escalate_due(session=session, now=clock.now(), room=room)

An incident opened at ``t`` with acknowledgement time ``a`` (per priority) mentions the on-duty
team in its topic at ``t + a``, the shift lead at ``t + 2a`` and everyone at ``t + 3a``, with a
digest of unacknowledged incidents in the General topic. Taking (or escalating to an agency,
or closing) cancels the chain; releasing a held incident runs it again from the release. The
state lives in ``incident_deadline``, so it survives a restart; steps that came due while
nobody swept fire once, as the latest step only.

The clock's start is stored (``started_at``): the opening, a restart when a closed incident
is reopened, or after a merge of two unacknowledged incidents the earlier of their starts. A
priority change keeps it; the reminders' "N min" count from it.

One rule for every change of a running chain (a priority change, a merge): the steps already
posted (on either chain of a merge) stay posted, and the next one is due at its time on the
new ladder from the clock's start; if that time is already past, one acknowledgement time of
the new priority after the change, or sooner if the chain had it due sooner before the change.
The steps after it follow one acknowledgement time apart. So a change never fires more than
one step at once, never posts a step twice, and a raise never delays the next reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlmodel import and_, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import SYSTEM, record
from situation.cards import scenario_icon
from situation.limits import NAME_ROOM, clip, pack, paginate
from situation.roster import on_duty_members
from situation.staffroom import RoomConfig, Topic, post, refresh_card
from situation.texts import render
from storage.escalations import (
    advance_deadline,
    deadlines_of,
    due_deadlines,
    get_deadline,
    lock_deadline,
    save_deadline,
)
from storage.incidents import claim_incident
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


def chased(incident: Incident) -> bool:
    """Whether an incident's running chain still reminds: nobody acknowledged it, or a holder
    released it and nobody took it since (see :func:`restart_deadline`)."""
    if incident.status == IncidentStatus.NEW:
        return True
    return incident.status in IncidentStatus.OPEN and incident.holder is None


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


def clock_start(deadline: IncidentDeadline, room: RoomConfig) -> datetime:
    """When the acknowledgement clock of a deadline started (older rows: due time less ack)."""
    if deadline.started_at is not None:
        return deadline.started_at
    return deadline.due_at - room.ack_time(deadline.priority)


def next_step_at(
    *,
    start: datetime,
    ack_time: timedelta,
    step: int,
    now: datetime,
    due_before: datetime | None,
) -> datetime:
    """When step ``step + 1`` is due after a change of a running chain at ``now``.

    Its time on the ladder of ``ack_time`` from the clock's ``start``; if that is already past,
    one ``ack_time`` after the change, or ``due_before`` (when the chain had it due before the
    change) if that is sooner: the change fires at most this one step, and never delays it.
    """
    natural = step_time(start + ack_time, ack_time, step + 1)
    if natural > now:
        return natural
    grace = now + ack_time
    return grace if due_before is None else min(grace, due_before)


def reschedule(
    deadline: IncidentDeadline,
    *,
    start: datetime,
    priority: str,
    room: RoomConfig,
    now: datetime,
    due_before: datetime | None,
) -> None:
    """Put a running chain on ``priority``'s ladder from ``start``, from the step it reached."""
    ack = room.ack_time(priority)
    deadline.priority = priority
    deadline.started_at = start
    if deadline.step < len(STEPS):
        upcoming = next_step_at(
            start=start, ack_time=ack, step=deadline.step, now=now, due_before=due_before
        )
        # The sweep's ladder starts from ``due_at``: the steps after the next follow ``ack`` apart.
        deadline.due_at = upcoming - ack * deadline.step
        deadline.next_at = upcoming
    else:
        deadline.due_at = start + ack
        deadline.next_at = None
    deadline.updated_at = now


async def reprioritise_deadline(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> None:
    """Move a running deadline to the incident's new priority (see :func:`next_step_at`)."""
    assert incident.id is not None
    # Locked: a sweep posting a step meanwhile must not have its progress overwritten.
    deadline = await lock_deadline(session=session, incident_id=incident.id)
    if deadline is None or deadline.cancelled_at is not None:
        return
    reschedule(
        deadline,
        start=clock_start(deadline, room),
        priority=incident.priority,
        room=room,
        now=now,
        due_before=deadline.next_at,
    )
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

    The target's clock starts when the earliest of the two started (each incident's own start:
    its opening, or an earlier clock merged into it before), at the target's priority after the
    merge, and counts the steps either chain already posted, so the merge neither restarts the
    chase nor posts a reminder twice; the next step is due as :func:`next_step_at` says.
    """
    assert source.id is not None and target.id is not None
    if room.chat_id is None:  # no staff room: no topics, so no deadlines to chase in them
        return
    starts: list[datetime] = []
    step = 0
    due: list[datetime] = []
    # Both rows locked (in id order, as every merge takes them) and read afresh: a sweep
    # posting a step on either chain meanwhile is seen here, or waits and then finds it moved.
    found_rows = {
        incident_id: await lock_deadline(session=session, incident_id=incident_id)
        for incident_id in sorted((source.id, target.id))
    }
    for incident in (source, target):
        assert incident.id is not None
        found = found_rows[incident.id]
        if found is not None and found.cancelled_at is None:
            starts.append(clock_start(found, room))
            step = max(step, found.step)
            if found.next_at is not None:
                due.append(found.next_at)
        else:
            starts.append(incident.opened_at)
    deadline = await get_deadline(session=session, incident_id=target.id)
    if deadline is None:  # the target's topic (and its deadline) is not opened yet
        deadline = IncidentDeadline(incident_id=target.id, priority=target.priority, due_at=now)
    deadline.cancelled_at = None
    deadline.step = step
    reschedule(
        deadline,
        start=min(starts),
        priority=target.priority,
        room=room,
        now=now,
        due_before=min(due, default=None),
    )
    await save_deadline(session=session, deadline=deadline)


async def restart_deadline(
    *, session: AsyncSession, incident: Incident, room: RoomConfig, now: datetime
) -> IncidentDeadline:
    """Run the acknowledgement chain again from ``now``: a closed incident reopened, or a held
    one released (it reminds until someone takes it, as an unacknowledged one does)."""
    assert incident.id is not None
    due_at = now + room.ack_time(incident.priority)
    deadline = await get_deadline(session=session, incident_id=incident.id)
    if deadline is None:
        deadline = IncidentDeadline(incident_id=incident.id, priority=incident.priority, due_at=now)
    deadline.priority = incident.priority
    deadline.started_at = now
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
    for due in await due_deadlines(session=session, now=now):
        # The incident first, as every staff action takes it: a take, a priority change or a
        # merge running now holds it, and this step waits for the next sweep (it then reads
        # what the action wrote) instead of posting from what was read before the action.
        incident = await claim_incident(session=session, incident_id=due.incident_id)
        if incident is None:
            continue
        deadline = await lock_deadline(session=session, incident_id=due.incident_id)
        if deadline is None or deadline.cancelled_at is not None:
            continue
        if deadline.next_at is None or deadline.next_at > now:
            continue  # rescheduled since it was read
        if not chased(incident):
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
    """Return open incidents nobody acknowledged yet, or released with nobody taking them since
    (their chain runs again), most urgent and oldest first."""
    statement = select(Incident).where(
        or_(
            col(Incident.status) == IncidentStatus.NEW,
            and_(col(Incident.status).in_(IncidentStatus.OPEN), col(Incident.holder).is_(None)),
        )
    )
    rows = list((await session.exec(statement)).all())
    released = [row.id for row in rows if row.status != IncidentStatus.NEW and row.id is not None]
    clocks = await deadlines_of(session=session, incident_ids=released)
    rows = [
        row
        for row in rows
        if row.status == IncidentStatus.NEW
        or (row.id in clocks and clocks[row.id].cancelled_at is None)
    ]
    rows.sort(key=lambda row: (row.priority, row.opened_at))
    return rows


async def post_digest(*, session: AsyncSession, room: RoomConfig, now: datetime) -> None:
    """Post the digest of unacknowledged incidents in the General topic (in parts if long)."""
    if room.chat_id is None:
        return
    waiting = await unacknowledged(session=session)
    clocks = await deadlines_of(
        session=session, incident_ids=[incident.id for incident in waiting if incident.id]
    )

    def waited(incident: Incident) -> int:
        # The minutes the reminders count: from the clock's start (a merge's earlier clock, a
        # reopening), the opening for an incident whose topic (and clock) is not open yet.
        clock = clocks.get(incident.id) if incident.id is not None else None
        start = clock_start(clock, room) if clock is not None else incident.opened_at
        return int((now - start).total_seconds() // 60)

    lines = [
        {
            "icon": scenario_icon(incident.scenario),
            "reference": incident.reference,
            "priority": incident.priority,
            "district": incident.district_name,
            "minutes": waited(incident),
        }
        for incident in waiting
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
