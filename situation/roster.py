"""The duty roster: teams taking turns in fixed-length shifts, with leads' overrides.

Usage::

    roster = load_roster(Path("config/roster.toml"))
    shift = roster.shift_at(now)                 # Shift(team="B", start=..., end=...)
    await current_shift(session=session, roster=roster, now=now)   # overrides included

The file (see ``config/roster.example.toml``) names the teams in rotation order, the shift
length in hours and the local time one shift of the first team started. Three teams on a
24-hour rotation and day/night shifts are both a list of teams and a length. Who belongs to a
team is stored with each staff member (``jikimi staff add --team``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.texts import render
from storage.models.roster import DutyOverride
from storage.models.staff import StaffMember
from storage.staff import list_staff


@dataclass(frozen=True)
class Shift:
    """One shift: the team on duty from ``start`` to ``end``."""

    team: str
    start: datetime
    end: datetime
    override: bool = False


@dataclass(frozen=True)
class Roster:
    """Teams in rotation order, the shift length and when a first-team shift started."""

    teams: tuple[str, ...]
    shift_length: timedelta
    anchor: datetime

    def __post_init__(self) -> None:
        if not self.teams:
            raise ValueError("a roster needs at least one team")
        if self.shift_length <= timedelta(0):
            raise ValueError("shifts must last a positive time")
        if self.anchor.tzinfo is None:
            raise ValueError("the roster anchor must be timezone-aware")

    def shift_at(self, moment: datetime) -> Shift:
        """Return the rotation's shift at ``moment``."""
        index = (moment - self.anchor) // self.shift_length
        start = self.anchor + self.shift_length * index
        team = self.teams[index % len(self.teams)]
        return Shift(team=team, start=start, end=start + self.shift_length)

    def next_shift(self, moment: datetime) -> Shift:
        """Return the rotation's shift after the one at ``moment``."""
        return self.shift_at(self.shift_at(moment).end)


def parse_roster(text: str) -> Roster:
    """Parse a roster TOML document."""
    data = tomllib.loads(text)
    rotation = data.get("rotation", {})
    zone = ZoneInfo(str(data.get("timezone", "Asia/Seoul")))
    anchor = datetime.fromisoformat(str(rotation["anchor"]))
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=zone)
    teams = tuple(str(team) for team in rotation["teams"])
    return Roster(
        teams=teams, shift_length=timedelta(hours=float(rotation["shift_hours"])), anchor=anchor
    )


def load_roster(path: Path) -> Roster:
    """Read the roster file."""
    return parse_roster(path.read_text(encoding="utf-8"))


async def _override_at(session: AsyncSession, moment: datetime) -> DutyOverride | None:
    statement = (
        select(DutyOverride)
        .where(col(DutyOverride.starts_at) <= moment, col(DutyOverride.ends_at) > moment)
        .order_by(col(DutyOverride.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def current_shift(
    *, session: AsyncSession, roster: Roster | None, now: datetime
) -> Shift | None:
    """Return the shift on duty at ``now``, a lead's override first; None without a roster."""
    if roster is None:
        return None
    shift = roster.shift_at(now)
    override = await _override_at(session, now)
    if override is not None:
        return Shift(team=override.team, start=shift.start, end=shift.end, override=True)
    return shift


async def overrides_during(
    *, session: AsyncSession, start: datetime, end: datetime
) -> list[DutyOverride]:
    """Return the leads' overrides in effect at some time in ``[start, end)``, oldest first."""
    statement = (
        select(DutyOverride)
        .where(col(DutyOverride.starts_at) < end, col(DutyOverride.ends_at) > start)
        .order_by(col(DutyOverride.id))
    )
    return list((await session.exec(statement)).all())


async def ending_shift(
    *, session: AsyncSession, roster: Roster, before: datetime
) -> tuple[Shift, set[str]]:
    """Return the shift that ended at ``before``, with the team on duty at its end (a lead's
    override included), and every team that was on duty in it (the rotation's and overrides')."""
    shift = roster.shift_at(before - roster.shift_length / 2)
    overrides = await overrides_during(session=session, start=shift.start, end=shift.end)
    teams = {shift.team, *(override.team for override in overrides)}
    at_end = [override for override in overrides if override.ends_at >= shift.end]
    if at_end:
        shift = Shift(team=at_end[-1].team, start=shift.start, end=shift.end, override=True)
    return shift, teams


async def on_duty_members(
    *, session: AsyncSession, roster: Roster | None, now: datetime
) -> list[StaffMember]:
    """Return the staff of the team on duty at ``now`` (empty without a roster)."""
    shift = await current_shift(session=session, roster=roster, now=now)
    if shift is None:
        return []
    return list(await list_staff(session=session, team=shift.team))


async def set_override(
    *,
    session: AsyncSession,
    roster: Roster,
    team: str,
    now: datetime,
    set_by: int | None,
) -> DutyOverride:
    """Put ``team`` on duty from now to the end of the current shift (a lead's change)."""
    if team not in roster.teams:
        raise ValueError(f"unknown team {team!r}")
    override = DutyOverride(
        team=team, starts_at=now, ends_at=roster.shift_at(now).end, set_by=set_by, created_at=now
    )
    session.add(override)
    await session.flush()
    return override


async def duty_text(
    *, session: AsyncSession, roster: Roster | None, now: datetime, lang: str
) -> str:
    """Render who is on duty now and next."""
    if roster is None:
        return render(lang, "staff_duty", configured=False)
    shift = await current_shift(session=session, roster=roster, now=now)
    assert shift is not None
    upcoming = roster.next_shift(now)
    zone = roster.anchor.tzinfo
    return render(
        lang,
        "staff_duty",
        configured=True,
        now_team=shift.team,
        now_override=shift.override,
        now_until=shift.end.astimezone(zone).strftime("%m-%d %H:%M"),
        now_members=[m.name for m in await list_staff(session=session, team=shift.team)],
        next_team=upcoming.team,
        next_from=upcoming.start.astimezone(zone).strftime("%m-%d %H:%M"),
        next_members=[m.name for m in await list_staff(session=session, team=upcoming.team)],
    )
