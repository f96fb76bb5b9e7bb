"""End to end: an unacknowledged P1 escalates in order (team, lead, everyone with a digest),
stops when taken, and keeps its deadline across a restart of the scheduler."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from bot.middlewares.roles import build_room
from bot.scheduler import JOBS_TABLE, SWEEP_JOB_ID, SchedulerService
from storage.engine import create_engine, create_session_factory
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    seed_staff,
    sweep,
    text_of,
    topic_messages,
    topics,
)


def mentions(message: dict[str, object], app: E2E) -> set[str]:
    """Names of the demo staff mentioned in a message."""
    return {person.name for person in app.world.staff if person.name in text_of(message)}


async def escalations(app: E2E, thread: int) -> list[dict[str, object]]:
    return [
        m for m in await topic_messages(app, thread) if "⏰" in text_of(m) or "🚨" in text_of(m)
    ]


async def test_unacknowledged_p1_escalates_in_order_and_stops_when_taken(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])

    await sweep(app)
    assert await escalations(app, thread) == []  # not due yet

    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)
    (team,) = await escalations(app, thread)
    assert mentions(team, app) == {"정하은", "Daniel Cho"}

    await sweep(app)  # nothing new is due
    assert len(await escalations(app, thread)) == 1

    app.clock.advance(timedelta(minutes=2))
    await sweep(app)
    team, lead = await escalations(app, thread)
    assert "최도윤" in mentions(lead, app) and "조장" in text_of(lead)

    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert len(await escalations(app, thread)) == 2  # taking cancelled the chain


async def test_third_step_mentions_everyone_with_a_digest_in_general(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)
    app.clock.advance(timedelta(minutes=2))
    await sweep(app)
    app.clock.advance(timedelta(minutes=2))
    await sweep(app)
    *_, everyone = await escalations(app, thread)
    assert mentions(everyone, app) == {person.name for person in app.world.staff}
    general = await app.client.messages(app.world.staff_chat_id)
    digest = [m for m in general if "미접수 사건 현황" in text_of(m)]
    assert len(digest) == 1 and topic["name"].split()[-1] in text_of(digest[0])


async def test_a_restart_keeps_the_deadline_and_fires_what_came_due_once(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    first = app.runtime.dispatcher.workflow_data["scheduler_service"]
    assert first.leading
    await first.stop()  # the worker goes down before the deadline

    app.clock.advance(timedelta(minutes=4, seconds=30))  # team and lead steps came due meanwhile
    engine = create_engine(app.settings.database_url)
    try:
        async with engine.connect() as conn:
            stored = await conn.execute(text(f"SELECT id FROM {JOBS_TABLE}"))
            assert [row[0] for row in stored] == [SWEEP_JOB_ID]
        second = SchedulerService(
            database_url=app.settings.database_url,
            session_factory=create_session_factory(engine),
            room=build_room(app.settings),
            clock=app.clock,
            worker_id="e2e-restarted",
        )
        try:
            assert await second.step()  # takes the lease, starts, runs the missed sweep now
            message = await app.client.wait_for_message(
                app.world.staff_chat_id, message_thread_id=thread, contains="⏰", timeout=10
            )
            await app.settle()
        finally:
            await second.stop()
    finally:
        await engine.dispose()
    fired = await escalations(app, thread)
    assert len(fired) == 1 and fired[0]["message_id"] == message["message_id"]
    assert "최도윤" in mentions(fired[0], app)  # straight to the latest due step, once


async def test_a_late_priority_raise_fires_one_step_at_a_time(app: E2E) -> None:
    """P3 for 35 minutes (the team was mentioned), then raised to P1: the P1 ladder from the
    opening has every step long due, yet the lead and everyone come one P1 interval apart."""
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    to = button_data(the_card, "st:pri:").rsplit(":", 1)[0] + ":"
    await press(app, haeun.id, the_card, to + "P3")

    app.clock.advance(timedelta(minutes=35))
    await sweep(app)
    (team,) = await escalations(app, thread)
    assert mentions(team, app) == {"정하은", "Daniel Cho"}

    await press(app, haeun.id, await card(app, thread), to + "P1")
    await sweep(app)
    assert len(await escalations(app, thread)) == 1  # nothing fires at the raise itself

    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)
    team, lead = await escalations(app, thread)
    assert "조장" in text_of(lead) and "최도윤" in mentions(lead, app)
    assert mentions(lead, app) != {person.name for person in app.world.staff}

    app.clock.advance(timedelta(minutes=2))
    await sweep(app)
    *_, everyone = await escalations(app, thread)
    assert mentions(everyone, app) == {person.name for person in app.world.staff}
    assert len(await escalations(app, thread)) == 3


def acknowledge_by(message: dict[str, object]) -> str:
    """The card's "acknowledge by" line, e.g. ``12:02:00 (초과)``."""
    (line,) = [row for row in text_of(message).splitlines() if "접수 기한" in row]
    return line.split("접수 기한:", 1)[1].strip()


async def test_the_card_shows_the_acknowledgement_deadline_not_the_shifted_ladder(
    app: E2E,
) -> None:
    """A P3 reminded, then raised to P1: the card shows the opening + 2 min (overdue), not
    the time the escalation ladder was shifted to; after the reminder it says overdue."""
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    p1_deadline = acknowledge_by(await card(app, thread))  # the opening + 2 min, not overdue
    assert "초과" not in p1_deadline
    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    to = button_data(the_card, "st:pri:").rsplit(":", 1)[0] + ":"
    await press(app, haeun.id, the_card, to + "P3")
    p3_deadline = acknowledge_by(await card(app, thread))
    assert p3_deadline != p1_deadline and "초과" not in p3_deadline

    app.clock.advance(timedelta(minutes=30, seconds=5))
    await sweep(app)  # the team's reminder: the card says overdue
    assert len(await escalations(app, thread)) == 1
    assert acknowledge_by(await card(app, thread)) == f"{p3_deadline} (초과)"

    app.clock.advance(timedelta(minutes=4, seconds=55))
    await press(app, haeun.id, await card(app, thread), to + "P1")
    assert acknowledge_by(await card(app, thread)) == f"{p1_deadline} (초과)"
