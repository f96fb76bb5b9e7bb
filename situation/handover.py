"""Shift hand-over: at each shift change, a digest of open incidents, and the leaving shift's
incidents released to (or assigned across) the incoming shift.

Usage (the periodic sweep)::

    posted = await handover_due(session=session, room=room, now=now, mode="release")
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import SYSTEM, record
from situation.cards import label, scenario_icon
from situation.deadlines import mentions
from situation.limits import NAME_ROOM, clip, paginate
from situation.roster import current_shift, ending_shift
from situation.staffroom import RoomConfig, post, refresh_card
from situation.texts import render
from storage.incidents import save_incident
from storage.models.incidents import Incident, IncidentStatus
from storage.models.roster import ShiftHandover
from storage.models.staff import StaffMember
from storage.staff import list_staff, staff_names

MODES = ("release", "assign")


@dataclass(frozen=True)
class Overrides:
    """Whether a lead's override (``/duty set``) put the leaving or the incoming team on duty."""

    outgoing: bool = False
    incoming: bool = False


async def open_incidents(*, session: AsyncSession) -> list[Incident]:
    """Return every open incident, most urgent and oldest first."""
    statement = select(Incident).where(col(Incident.status).in_(IncidentStatus.OPEN))
    rows = list((await session.exec(statement)).all())
    rows.sort(key=lambda row: (row.priority, row.opened_at))
    return rows


async def handover_due(
    *, session: AsyncSession, room: RoomConfig, now: datetime, mode: str = "release"
) -> ShiftHandover | None:
    """Post the hand-over of the current shift if not done yet; return it, else None."""
    if room.roster is None or room.chat_id is None:
        return None
    shift = await current_shift(session=session, roster=room.roster, now=now)
    assert shift is not None
    exists = await session.exec(
        select(col(ShiftHandover.id)).where(col(ShiftHandover.shift_start) == shift.start)
    )
    if exists.first() is not None:
        return None
    previous, on_duty = await ending_shift(session=session, roster=room.roster, before=shift.start)
    handover = ShiftHandover(
        shift_start=shift.start,
        outgoing_team=previous.team,
        incoming_team=shift.team,
        posted_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(handover)
            await session.flush()
    except IntegrityError:  # another worker posted it
        return None
    await hand_over(
        session=session,
        room=room,
        now=now,
        outgoing_team=previous.team,
        incoming_team=shift.team,
        mode=mode,
        leaving_teams=on_duty,
        overrides=Overrides(outgoing=previous.override, incoming=shift.override),
    )
    return handover


def _name(name: str | None) -> str | None:
    return clip(name, NAME_ROOM) if name else None


def handover_texts(
    *,
    lang: str,
    outgoing_team: str | None,
    incoming_team: str,
    incoming: Sequence[StaffMember],
    lines: Sequence[dict[str, Any]],
    moved: int,
    mode: str,
    overrides: Overrides = Overrides(),
) -> list[str]:
    """Render the hand-over digest: the incoming team mentioned, then the open incidents, in
    as many messages as Telegram's limit takes (numbered when more than one)."""
    entries: list[dict[str, Any] | StaffMember] = [*incoming, *lines]

    def part(run: Sequence[dict[str, Any] | StaffMember], number: int, count: int) -> str:
        return render(
            lang,
            "staff_handover",
            outgoing=_name(outgoing_team),
            incoming=_name(incoming_team),
            outgoing_override=overrides.outgoing,
            incoming_override=overrides.incoming,
            mentions=mentions([entry for entry in run if isinstance(entry, StaffMember)]),
            lines=[entry for entry in run if isinstance(entry, dict)],
            total=len(lines),
            moved=moved,
            mode=mode,
            part=number,
            parts=count,
        )

    return paginate(entries, part)


async def hand_over(
    *,
    session: AsyncSession,
    room: RoomConfig,
    now: datetime,
    outgoing_team: str | None,
    incoming_team: str,
    mode: str = "release",
    leaving_teams: Collection[str] | None = None,
    overrides: Overrides = Overrides(),
) -> list[Incident]:
    """Release or reassign the leaving teams' incidents and post the digest; return them.

    ``leaving_teams`` (by default the outgoing team) are every team on duty in the shift that
    ended, a lead's override included; their members who join the incoming team keep theirs.
    """
    if mode not in MODES:
        raise ValueError(f"hand-over mode must be one of {MODES}")
    if leaving_teams is None:
        leaving_teams = [outgoing_team] if outgoing_team is not None else []
    incoming: list[StaffMember] = list(await list_staff(session=session, team=incoming_team))
    staying = {member.telegram_user_id for member in incoming}
    leaving = {
        member.telegram_user_id
        for team in leaving_teams
        for member in await list_staff(session=session, team=team)
        if member.telegram_user_id not in staying
    }
    incidents = await open_incidents(session=session)
    moved: list[Incident] = []
    turn = 0
    for incident in incidents:
        if incident.holder is None or int(incident.holder) not in leaving:
            continue
        assert incident.id is not None
        before = incident.holder
        if mode == "assign" and incoming:
            incident.holder = str(incoming[turn % len(incoming)].telegram_user_id)
            turn += 1
        else:
            incident.holder = None
        incident.updated_at = now
        await save_incident(session=session, incident=incident)
        await record(
            session=session,
            incident_id=incident.id,
            action="handover",
            actor=SYSTEM,
            now=now,
            before={"holder": before},
            after={"holder": incident.holder, "team": incoming_team},
        )
        await refresh_card(session=session, incident=incident, room=room, now=now)
        moved.append(incident)
    holders = await staff_names(
        session=session, user_ids=[int(i.holder) for i in incidents if i.holder]
    )
    lines: list[dict[str, Any]] = [
        {
            "icon": scenario_icon(incident.scenario),
            "reference": incident.reference,
            "priority": incident.priority,
            "status": label(room.lang, incident.status),
            "hours": round((now - incident.opened_at).total_seconds() / 3600, 1),
            "holder": _name(holders.get(int(incident.holder))) if incident.holder else None,
            "district": incident.district_name,
        }
        for incident in incidents
    ]
    assert room.chat_id is not None
    for text in handover_texts(
        lang=room.lang,
        outgoing_team=outgoing_team,
        incoming_team=incoming_team,
        incoming=incoming,
        lines=lines,
        moved=len(moved),
        mode=mode,
        overrides=overrides,
    ):
        await post(session=session, room=room, text=text)
    return moved
