"""The duty roster: rotation, day/night shifts and leads' overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from situation.roles import seed_demo_staff
from situation.roster import (
    current_shift,
    ending_shift,
    load_roster,
    on_duty_members,
    parse_roster,
    set_override,
)

EXAMPLE = Path(__file__).parents[2] / "config" / "roster.example.toml"


def test_three_teams_rotate_every_24_hours() -> None:
    roster = parse_roster(
        'timezone = "Asia/Seoul"\n[rotation]\nanchor = "2026-11-01T09:00"\nshift_hours = 24\n'
        'teams = ["A", "B", "C"]\n'
    )
    start = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    assert roster.shift_at(start).team == "A"
    assert roster.shift_at(start + timedelta(hours=23, minutes=59)).team == "A"
    assert roster.shift_at(start + timedelta(days=1)).team == "B"
    assert roster.shift_at(start + timedelta(days=3)).team == "A"
    assert roster.shift_at(start - timedelta(minutes=1)).team == "C"
    assert roster.next_shift(start).team == "B"


def test_the_example_file_is_day_and_night() -> None:
    roster = load_roster(EXAMPLE)
    day = roster.shift_at(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))  # 12:00 Seoul
    night = roster.shift_at(datetime(2026, 11, 22, 13, 0, tzinfo=UTC))  # 22:00 Seoul
    assert day.end - day.start == timedelta(hours=12) and day.team != night.team


async def test_a_lead_override_puts_another_team_on_duty(session_factory: Any) -> None:
    roster = parse_roster(
        '[rotation]\nanchor = "2026-11-01T09:00"\nshift_hours = 12\nteams = ["A", "B"]\n'
    )
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    async with session_factory() as session, session.begin():
        await seed_demo_staff(
            session=session, world_staff=[(1, "가", "staff"), (2, "나", "lead"), (3, "다", "staff")]
        )
        assert (await current_shift(session=session, roster=roster, now=now)).team == "A"  # type: ignore[union-attr]
        assert {m.name for m in await on_duty_members(session=session, roster=roster, now=now)} == {
            "가",
            "다",
        }
        await set_override(session=session, roster=roster, team="B", now=now, set_by=2)
        shift = await current_shift(session=session, roster=roster, now=now + timedelta(minutes=5))
        assert shift is not None and shift.team == "B" and shift.override
        after = await current_shift(
            session=session, roster=roster, now=shift.end + timedelta(minutes=1)
        )
        assert after is not None and not after.override


async def test_the_ending_shift_names_the_team_a_lead_put_on_duty(session_factory: Any) -> None:
    roster = parse_roster(
        '[rotation]\nanchor = "2026-11-01T09:00"\nshift_hours = 12\nteams = ["A", "B", "C"]\n'
    )
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    change = roster.shift_at(now).end
    async with session_factory() as session, session.begin():
        plain, teams = await ending_shift(session=session, roster=roster, before=change)
        assert (plain.team, plain.override, teams) == ("A", False, {"A"})
        await set_override(session=session, roster=roster, team="B", now=now, set_by=2)
        await set_override(session=session, roster=roster, team="C", now=now, set_by=2)
        ended, teams = await ending_shift(session=session, roster=roster, before=change)
        assert (ended.team, ended.override, teams) == ("C", True, {"A", "B", "C"})
        following, _ = await ending_shift(
            session=session, roster=roster, before=roster.shift_at(change).end
        )
        assert not following.override and following.team == "B"
