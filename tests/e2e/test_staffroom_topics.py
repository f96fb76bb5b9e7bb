"""End to end: a topic closed or deleted by hand is reopened or recreated, and the messages
that could not be delivered are sent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.scheduler import run_citizen_timers
from sandbox.images import tiny_png
from situation import scenarios
from situation.deadline_defaults import DEFAULT_ACK_MINUTES
from storage.escalations import get_deadline
from storage.models.escalations import IncidentDeadline
from tests.e2e.citizen_helpers import CITY_HALL, all_incidents, bot_messages, reports_of
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


async def test_a_topic_closed_by_hand_is_reopened_and_nothing_is_lost(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    admin = app.world.person("이서연")
    await app.client.close_topic(app.world.staff_chat_id, thread, user_id=admin.id)
    await app.client.send_text(citizen.id, citizen.id, "연기가 계단까지 올라왔어요")
    await app.settle()

    await sweep(app)
    (topic,) = await topics(app)
    assert topic.get("is_closed") is not True
    shown = [text_of(m) for m in await topic_messages(app, thread)]
    assert any("연기가 계단까지 올라왔어요" in text for text in shown)


async def test_a_deleted_topic_is_recreated_with_its_card_and_the_lost_message(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    old_thread = int(topic["message_thread_id"])
    await _delete_topic(app, old_thread)
    await app.client.send_text(citizen.id, citizen.id, "1층 출입구가 막혔어요")
    await app.settle()

    await sweep(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    assert thread != old_thread and topic["name"].startswith("🔴 🔥")
    assert "화재" in text_of(await card(app, thread))
    shown = [text_of(m) for m in await topic_messages(app, thread)]
    assert any("새로 만들었습니다" in text for text in shown)
    assert any("1층 출입구가 막혔어요" in text for text in shown)


async def _delete_topic(app: E2E, thread: int) -> None:
    """Delete a topic through the Bot API (the sandbox has no control call for it)."""
    await app.runtime.bot.delete_forum_topic(
        chat_id=app.world.staff_chat_id, message_thread_id=thread
    )


async def test_an_urgent_report_without_a_location_reaches_the_room_within_seconds(
    app: E2E,
) -> None:
    """People trapped, no location shared: staff see it after 20 s, not after two minutes.

    A report waits for the location it was asked for, to join the right incident. The urgent
    one waits only ``urgent_where_timeout``; the plain one keeps the longer wait.
    """
    trapped = await app.citizen("갇힘", "ko")
    lamp = await app.citizen("가로등", "ko")
    await app.client.send_text(trapped.id, trapped.id, "엘리베이터에 사람이 갇혔어요 살려주세요")
    await app.client.send_text(lamp.id, lamp.id, "가로등이 꺼져 있어요")
    await app.settle()
    assert await topics(app) == []

    app.clock.advance(timedelta(seconds=21))
    service = app.runtime.dispatcher["scheduler_service"]
    await run_citizen_timers(service.context, app.clock.now())
    await app.settle()
    (topic,) = await topics(app)
    assert "갇혔어요" in text_of(await card(app, int(topic["message_thread_id"])))

    app.clock.advance(timedelta(minutes=2))
    await run_citizen_timers(service.context, app.clock.now())
    await app.settle()
    assert len(await topics(app)) == 2  # the plain report after the usual wait


async def test_a_follow_up_photo_is_counted_on_the_card(app: E2E) -> None:
    """The card said "사진 0장" after the citizen's photo until something else redrew it."""
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    assert "사진 0장" in text_of(await card(app, thread))

    await app.client.send_photo(citizen.id, citizen.id, tiny_png(8, 6, (200, 40, 40)))
    await app.settle()

    assert any(m.get("photo") for m in await topic_messages(app, thread))
    assert "사진 1장" in text_of(await card(app, thread))


async def _deadline(app: E2E, incident_id: int | None) -> IncidentDeadline:
    async with app.runtime.session_factory() as session:
        deadline = await get_deadline(session=session, incident_id=incident_id or 0)
        assert deadline is not None
        return deadline


async def test_urgent_words_after_the_topic_opened_redraw_the_card_and_hurry_the_deadline(
    app: E2E,
) -> None:
    """The incident turned P1 but its card still said P3 and its deadline ran on P3's clock."""
    citizen = await app.citizen("가로등", "ko")
    await app.client.send_text(citizen.id, citizen.id, "가로등이 꺼져 있어요")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    assert "P3" in text_of(await card(app, thread))

    await app.client.send_text(citizen.id, citizen.id, "옆 건물에서 불이 났어요 연기가 나요")
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.priority == "P1" and incident.urgent
    shown = text_of(await card(app, thread))
    assert "P1" in shown and "긴급" in shown
    deadline = await _deadline(app, incident.id)
    assert deadline.priority == "P1"
    assert deadline.due_at - deadline.started_at == timedelta(minutes=DEFAULT_ACK_MINUTES["P1"])


async def test_words_after_a_voice_note_give_the_incident_its_scenario_and_card(
    app: E2E,
) -> None:
    """A report filed by a location and a voice note kept an unclassified incident and card."""
    citizen = await app.citizen("Voice", "en")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.client.send_voice(citizen.id, citizen.id, b"OggS help", duration=3)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    assert "유형 미정" in text_of(await card(app, thread))

    await app.client.send_text(citizen.id, citizen.id, "Power is out on the whole street")
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.scenario is not None
    shown = text_of(await card(app, thread))
    assert "유형 미정" not in shown and "Power is out" in shown
    assert "❓" not in (await topics(app))[0]["name"]


def _choice_buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [str(b.get("callback_data", "")) for row in rows for b in row]


async def test_a_citizens_scenario_choice_redraws_the_card_and_is_noted_in_the_topic(
    app: E2E,
) -> None:
    """The report and its incident took the pick, but the card kept the classifier's guess."""
    citizen = await app.citizen("유형선택", "ko")
    client, chat = app.client, citizen.id
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "뭔가 이상해요 냄새가")  # the classifier is unsure
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    choices = next(
        m
        for m in await bot_messages(app, chat)
        if any(d.startswith("csc:") for d in _choice_buttons(m))
    )
    (incident,) = await all_incidents(app)
    guessed = incident.scenario
    assert guessed is not None and scenarios.title(guessed, "ko") in text_of(
        await card(app, thread)
    )
    picked = next(
        d
        for d in _choice_buttons(choices)
        if d.startswith("csc:") and d.split(":")[2] not in (guessed, "other")
    )
    slug = picked.split(":")[2]

    await client.press_button(citizen.id, chat, choices["message_id"], picked)
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.scenario == slug
    shown = text_of(await card(app, thread))
    assert scenarios.title(slug, "ko") in shown and scenarios.title(guessed, "ko") not in shown
    (renamed,) = await topics(app)
    icon = scenarios.title(slug, "ko").split()[0]
    assert icon in renamed["name"]
    notes = [text_of(m) for m in await topic_messages(app, thread) if "🔘" in text_of(m)]
    assert len(notes) == 1 and scenarios.title(slug, "ko") in notes[0] and "R-" in notes[0]


async def test_a_scenario_choice_does_not_override_an_incident_others_joined(app: E2E) -> None:
    """Documented rule: an incident other citizens' reports joined keeps its scenario."""
    await report_fire(app, "첫째")
    citizen = await app.citizen("둘째", "ko")
    client, chat = app.client, citizen.id
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "불이 번지고 있어요")  # a fire, the classifier unsure
    await app.settle()
    choices = next(
        m
        for m in await bot_messages(app, chat)
        if any(d.startswith("csc:") for d in _choice_buttons(m))
    )
    (incident,) = await all_incidents(app)
    assert incident.report_count == 2 and incident.scenario == "fire"
    other = next(d for d in _choice_buttons(choices) if d.endswith(":other"))
    await client.press_button(citizen.id, chat, choices["message_id"], other)
    await app.settle()

    (after,) = await all_incidents(app)
    assert after.scenario == "fire"
    (topic,) = await topics(app)
    notes = [
        m for m in await topic_messages(app, int(topic["message_thread_id"])) if "🔘" in text_of(m)
    ]
    assert len(notes) == 1 and "기타" in text_of(notes[0])


async def test_urgent_words_on_a_taken_incident_redraw_its_card_and_tell_the_holder(
    app: E2E,
) -> None:
    """Taken, the incident turned P1 but kept a P3 card: no running deadline told the redraw."""
    await seed_staff(app)
    citizen = await app.citizen("접수후긴급", "ko")
    await app.client.send_text(citizen.id, citizen.id, "가로등이 꺼져 있어요")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    assert "P3" in text_of(await card(app, thread))

    await app.client.send_text(citizen.id, citizen.id, "사람이 갇혔어요")  # urgent, no new scenario
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.priority == "P1" and incident.holder == str(haeun.id)
    shown = text_of(await card(app, thread))
    assert "P1" in shown and "긴급" in shown and "정하은" in shown
    (notice,) = [m for m in await topic_messages(app, thread) if "🚨" in text_of(m)]
    assert "P1" in text_of(notice) and "정하은" in text_of(notice)
    links = [e.get("url") for e in notice.get("entities", []) if e.get("type") == "text_link"]
    assert links == [f"tg://user?id={haeun.id}"]  # the holder is mentioned: their phone rings


async def test_urgent_words_on_a_new_incident_are_noted_in_the_topic(app: E2E) -> None:
    """The card turned P1, but nothing in the topic said the citizen's words were urgent."""
    citizen = await app.citizen("Streetlight", "en")
    await app.client.send_text(citizen.id, citizen.id, "The streetlight is out")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])

    await app.client.send_text(citizen.id, citizen.id, "someone is trapped inside")
    await app.settle()

    assert "P1" in text_of(await card(app, thread))
    shown = await topic_messages(app, thread)
    words = next(i for i, m in enumerate(shown) if "someone is trapped" in text_of(m))
    notices = [i for i, m in enumerate(shown) if "🚨" in text_of(m)]
    assert notices and notices[0] > words and len(notices) == 1
    assert "긴급" in text_of(shown[notices[0]])  # the room's language


async def _flood_report(app: E2E, name: str, words: str, metres: float) -> Any:
    """A new citizen reports ``words`` with a location ``metres`` north of City Hall."""
    citizen = await app.citizen(name, "ko")
    await app.client.send_text(citizen.id, citizen.id, words)
    await app.client.send_location(
        citizen.id, citizen.id, CITY_HALL[0] + metres / 111_195.0, CITY_HALL[1]
    )
    await app.settle()
    return citizen


async def test_another_citizens_urgent_report_joining_is_noted_and_tells_the_holder(
    app: E2E,
) -> None:
    """A joining urgent report raised the incident to P1 but no 🚨 notice said so."""
    await seed_staff(app)
    await _flood_report(app, "첫제보", "하천 물이 넘치고 있어요", 0)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    assert "P2" in text_of(await card(app, thread))

    trapped = await _flood_report(app, "갇힌사람", "하천 물이 넘쳐서 사람이 갇혔어요", 100)
    (report,) = await reports_of(app, trapped.id)
    (incident,) = await all_incidents(app)
    assert incident.priority == "P1" and incident.report_count == 2
    shown = await topic_messages(app, thread)
    words = next(i for i, m in enumerate(shown) if "사람이 갇혔어요" in text_of(m))
    (notice,) = [i for i, m in enumerate(shown) if "🚨" in text_of(m)]
    assert notice > words and "P1" in text_of(shown[notice])
    assert f"{report.reference}:" in text_of(shown[notice])  # a reply answers that citizen
    assert "정하은" in text_of(shown[notice])
    links = [
        e.get("url") for e in shown[notice].get("entities", []) if e.get("type") == "text_link"
    ]
    assert links == [f"tg://user?id={haeun.id}"]
    assert "P1" in text_of(await card(app, thread))

    # Another urgent report on the P1 incident raises nothing: no second notice.
    await _flood_report(app, "또갇힘", "하천 물이 넘쳐서 사람이 갇혔어요", 150)
    (incident,) = await all_incidents(app)
    assert incident.report_count == 3
    assert len([m for m in await topic_messages(app, thread) if "🚨" in text_of(m)]) == 1


async def test_an_urgent_report_joining_an_unacknowledged_incident_hurries_its_deadline(
    app: E2E,
) -> None:
    await _flood_report(app, "첫제보", "하천 물이 넘치고 있어요", 0)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    await _flood_report(app, "갇힌사람", "하천 물이 넘쳐서 사람이 갇혔어요", 100)
    (incident,) = await all_incidents(app)
    assert incident.priority == "P1"
    (notice,) = [m for m in await topic_messages(app, thread) if "🚨" in text_of(m)]
    assert "P1" in text_of(notice)
    deadline = await _deadline(app, incident.id)
    assert deadline.priority == "P1"
    assert deadline.due_at - deadline.started_at == timedelta(minutes=DEFAULT_ACK_MINUTES["P1"])
