"""End to end: a citizen's live location moves the report, its incident and the staff topic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.scheduler import run_citizen_timers
from tests.e2e.citizen_helpers import CITY_HALL, all_incidents, north_of, reports_of
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    seed_staff,
    sweep,
    text_of,
    topic_messages,
    topics,
)

JONGNO = north_of(CITY_HALL, 1500)  # past Gwanghwamun: 종로구


def live_notes(messages: list[dict[str, Any]]) -> list[str]:
    """Return the topic's notes about the citizen's live location, oldest first."""
    return [text_of(m) for m in messages if m["from"]["is_bot"] and "실시간 위치" in text_of(m)]


def pins(messages: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Return the map pins the bot put in the topic, oldest first."""
    return [
        (m["location"]["latitude"], m["location"]["longitude"])
        for m in messages
        if m["from"]["is_bot"] and "location" in m
    ]


async def wait(app: E2E, minutes: float) -> None:
    """Let time pass for the bot and the sandbox alike."""
    app.clock.advance(timedelta(minutes=minutes))
    await app.client.advance_time(minutes * 60)


async def test_a_moving_live_location_moves_the_incident_and_tells_staff_now_and_then(
    app: E2E,
) -> None:
    await seed_staff(app)
    citizen = await app.citizen("이동중", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    live = await client.send_location(citizen.id, chat, *CITY_HALL, live_period=3600)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    shown = await topic_messages(app, thread)
    assert "중구" in text_of(await card(app, thread)) and live_notes(shown) == []

    # Into another district: the report, the incident, the card and a note follow at once.
    await client.edit_live_location(citizen.id, chat, live["message_id"], *JONGNO)
    await app.settle()
    (report,) = await reports_of(app, citizen.id)
    (incident,) = await all_incidents(app)
    assert (report.latitude, report.longitude) == JONGNO and report.district_name == "종로구"
    assert (incident.latitude, incident.longitude) == JONGNO
    assert incident.district_name == "종로구"
    shown = await topic_messages(app, thread)
    assert len(live_notes(shown)) == 1 and "종로구" in live_notes(shown)[0]
    assert pins(shown)[-1] == JONGNO
    assert "종로구" in text_of(await card(app, thread))

    # Small moves within minutes: the report follows, the topic is not flooded.
    for metres in (50, 100, 150):
        await client.edit_live_location(
            citizen.id, chat, live["message_id"], *north_of(JONGNO, metres)
        )
    await app.settle()
    (report,) = await reports_of(app, citizen.id)
    assert (report.latitude, report.longitude) == north_of(JONGNO, 150)
    assert len(live_notes(await topic_messages(app, thread))) == 1

    # Minutes later the next move is shown with where the citizen is now.
    await wait(app, 4)
    later = north_of(JONGNO, 200)
    await client.edit_live_location(citizen.id, chat, live["message_id"], *later)
    await app.settle()
    shown = await topic_messages(app, thread)
    assert len(live_notes(shown)) == 2 and pins(shown)[-1] == later

    # Stopping is shown at once, with the last place, and nothing is lost.
    await client.stop_live_location(citizen.id, chat, live["message_id"])
    await app.settle()
    shown = await topic_messages(app, thread)
    notes = live_notes(shown)
    assert len(notes) == 3 and "종료" in notes[-1] and pins(shown)[-1] == later
    (report,) = await reports_of(app, citizen.id)
    assert (report.latitude, report.longitude) == later
    assert report.live_until is not None and report.status == "filed"


async def test_a_live_location_does_not_drag_an_incident_others_located(app: E2E) -> None:
    await seed_staff(app)
    first = await app.citizen("목격자", "ko")
    await app.client.send_text(first.id, first.id, "하천 물이 넘치고 있어요")
    await app.client.send_location(first.id, first.id, *CITY_HALL)
    await app.settle()
    walker = await app.citizen("산책", "ko")
    near = north_of(CITY_HALL, 100)
    await app.client.send_text(walker.id, walker.id, "하천 물이 넘치고 있어요")
    live = await app.client.send_location(walker.id, walker.id, *near, live_period=3600)
    await app.settle()
    (before,) = await all_incidents(app)
    assert before.report_count == 2 and before.located_reports == 2

    await app.client.edit_live_location(walker.id, walker.id, live["message_id"], *JONGNO)
    await app.settle()
    (incident,) = await all_incidents(app)
    assert (incident.latitude, incident.longitude) == (before.latitude, before.longitude)
    assert incident.district_name == "중구"
    _, walking = [*(await reports_of(app, first.id)), *(await reports_of(app, walker.id))]
    assert walking.district_name == "종로구" and walking.incident_id == incident.id
    (topic,) = await topics(app)
    notes = live_notes(await topic_messages(app, int(topic["message_thread_id"])))
    assert len(notes) == 1 and "종로구" in notes[0]


async def test_a_live_location_that_runs_out_shows_staff_where_it_ended(app: E2E) -> None:
    """A move made within minutes of the last note never reached staff if the period ran out."""
    await seed_staff(app)
    citizen = await app.citizen("만료", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    live = await client.send_location(citizen.id, chat, *CITY_HALL, live_period=600)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    last = north_of(CITY_HALL, 120)
    await client.edit_live_location(citizen.id, chat, live["message_id"], *last)
    await app.settle()
    assert live_notes(await topic_messages(app, thread)) == []  # held back: shown a moment ago

    # The period runs out; Telegram sends no final edit. The sweep shows the last place.
    await wait(app, 11)
    service = app.runtime.dispatcher["scheduler_service"]
    await run_citizen_timers(service.context, app.clock.now())
    await app.settle()
    shown = await topic_messages(app, thread)
    (note,) = live_notes(shown)
    assert "종료" in note and pins(shown)[-1] == last
    await run_citizen_timers(service.context, app.clock.now())  # once only
    await app.settle()
    assert len(live_notes(await topic_messages(app, thread))) == 1


async def test_walking_along_a_district_border_does_not_flood_the_topic(app: E2E) -> None:
    """Each crossing of a border was a note: a citizen walking along it flooded the topic."""
    await seed_staff(app)
    citizen = await app.citizen("경계", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    live = await client.send_location(citizen.id, chat, *CITY_HALL, live_period=3600)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    for place in (JONGNO, CITY_HALL, JONGNO, CITY_HALL, JONGNO):
        await client.edit_live_location(citizen.id, chat, live["message_id"], *place)
        await app.settle()
    notes = live_notes(await topic_messages(app, thread))
    assert len(notes) == 1 and "종로구" in notes[0]  # the first crossing only

    # A minute later the next crossing is noted again; stopping always is.
    await wait(app, 1.5)
    await client.edit_live_location(citizen.id, chat, live["message_id"], *CITY_HALL)
    await app.settle()
    await client.stop_live_location(citizen.id, chat, live["message_id"])
    await app.settle()
    notes = live_notes(await topic_messages(app, thread))
    assert len(notes) == 3 and "중구" in notes[1] and "종료" in notes[2]


async def test_a_reopened_incident_shows_where_a_live_location_is_once(app: E2E) -> None:
    """Moves of a live location while its incident was closed are not shown to anyone; once
    staff reopen it, the topic is told where the citizen is now once, not once per move."""
    await seed_staff(app)
    citizen = await app.citizen("닫힌뒤이동", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    live = await client.send_location(citizen.id, chat, *CITY_HALL, live_period=8 * 3600)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    lead = app.world.person("최도윤")
    await client.send_text(
        lead.id, app.world.staff_chat_id, "/close resolved 진화 완료", message_thread_id=thread
    )
    await app.settle()

    for step in range(1, 5):  # four moves minutes apart: each would be shown on an open incident
        await wait(app, 4)
        await client.edit_live_location(
            citizen.id, chat, live["message_id"], *north_of(CITY_HALL, 100 * step)
        )
        await app.settle()
    before = len(live_notes(await topic_messages(app, thread)))

    closed_card = await card(app, thread)
    await press(app, lead.id, closed_card, button_data(closed_card, "st:reopen:"))
    await app.settle()
    await sweep(app)  # the room's periodic pass shows what it was not shown
    shown = await topic_messages(app, thread)
    assert len(live_notes(shown)) - before == 1
    assert pins(shown)[-1] == north_of(CITY_HALL, 400)
