"""End to end: what a merge of duplicate incidents does to the target's acknowledgement clock,
to its acknowledgement and holder, to words staff write in the merged-away topic, and to the
hand-overs each one's export lists."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.cli import main as cli
from situation.roles import register
from tests.e2e.citizen_helpers import CITY_HALL, bot_texts
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

GANGNAM = (37.4979, 127.0276)


async def merge_into(app: E2E, user_id: int, source_thread: int) -> None:
    """Merge the incident of ``source_thread`` into the other open one with the card's buttons."""
    source_card = await card(app, source_thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrg:"))
    source_card = await card(app, source_thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrgto:"))


def reminders(messages: list[dict[str, Any]]) -> list[str]:
    """The escalation reminders among a topic's messages."""
    return [text_of(m) for m in messages if "⏰" in text_of(m) or "🚨" in text_of(m)]


def links(message: dict[str, Any]) -> list[str]:
    """The URLs a message links to."""
    return [str(e["url"]) for e in message.get("entities") or [] if e.get("type") == "text_link"]


async def test_a_merge_keeps_the_clock_of_the_earliest_unacknowledged_report(app: E2E) -> None:
    """The older incident merged into a newer one: reminders come on the older one's clock."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)  # P1: 2 minutes to acknowledge
    app.clock.advance(timedelta(seconds=90))
    await report_fire(app, "둘째", where=GANGNAM)
    older, newer = await topics(app)
    target = int(newer["message_thread_id"])

    await merge_into(app, app.world.person("정하은").id, int(older["message_thread_id"]))

    # 2 min 5 s after the first report, 35 s after the second: the first's deadline is over.
    app.clock.advance(timedelta(seconds=35))
    await sweep(app)
    shown = reminders(await topic_messages(app, target))
    assert len(shown) == 1 and "2분 경과" in shown[0]
    assert "(초과)" in text_of(await card(app, target))
    app.clock.advance(timedelta(minutes=2))  # the lead's step, on the same clock
    await sweep(app)
    assert len(reminders(await topic_messages(app, target))) == 2
    app.clock.advance(timedelta(minutes=2))  # everyone, and the digest in General
    await sweep(app)
    *_, everyone = reminders(await topic_messages(app, target))
    assert "6분 경과" in everyone
    general = await app.client.messages(app.world.staff_chat_id)
    (digest,) = [text_of(m) for m in general if "미접수 사건 현황" in text_of(m)]
    assert newer["name"].split()[-1] in digest
    assert "6분 경과" in digest  # as the reminder counts, not from the newer report's opening


async def test_a_merge_never_restarts_a_clock_that_already_reminded(app: E2E) -> None:
    """A reminder already posted is not posted again; the next step stays on the old clock."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)  # the first incident's team reminder
    await report_fire(app, "둘째", where=GANGNAM)
    older, newer = await topics(app)
    target = int(newer["message_thread_id"])

    await merge_into(app, app.world.person("정하은").id, int(older["message_thread_id"]))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []  # the team step was done

    app.clock.advance(timedelta(minutes=2))  # 4 min 5 s after the first report: the lead's
    await sweep(app)
    (lead,) = reminders(await topic_messages(app, target))
    assert "조장" in lead and "4분 경과" in lead


async def test_a_merge_onto_an_old_clock_with_a_raise_fires_one_step_at_a_time(app: E2E) -> None:
    """A P3 reminded at 30 min merged into a new P1 at 35 min: the P1 ladder from the old clock
    has every step due, yet the lead comes 2 min after the merge and everyone 2 min later."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    (older,) = await topics(app)
    haeun = app.world.person("정하은")
    older_card = await card(app, int(older["message_thread_id"]))
    to = button_data(older_card, "st:pri:").rsplit(":", 1)[0] + ":"
    await press(app, haeun.id, older_card, to + "P3")
    app.clock.advance(timedelta(minutes=30, seconds=5))
    await sweep(app)  # the older incident's team reminder
    app.clock.advance(timedelta(minutes=4, seconds=55))
    await report_fire(app, "둘째", where=GANGNAM)  # P1, 35 min after the first
    _, newer = await topics(app)
    target = int(newer["message_thread_id"])

    await merge_into(app, haeun.id, int(older["message_thread_id"]))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []  # nothing fires at the merge

    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)
    (lead,) = reminders(await topic_messages(app, target))
    assert "조장" in lead and "P1, 37분 경과" in lead  # counted from the older clock
    app.clock.advance(timedelta(minutes=2))
    await sweep(app)
    _, everyone = reminders(await topic_messages(app, target))
    assert "전원" in everyone and "39분 경과" in everyone


async def test_merging_a_taken_incident_acknowledges_the_target(app: E2E) -> None:
    """The target inherits the acknowledgement and the holder; its citizens are told; no chase."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    taken, new = await topics(app)
    haeun = app.world.person("정하은")
    taken_card = await card(app, int(taken["message_thread_id"]))
    await press(app, haeun.id, taken_card, button_data(taken_card, "st:take:"))
    target = int(new["message_thread_id"])

    await merge_into(app, haeun.id, int(taken["message_thread_id"]))

    target_card = text_of(await card(app, target))
    assert "담당: 정하은" in target_card and "접수됨" in target_card
    _, new = await topics(app)
    assert new["name"].startswith("🟡")
    assert any("확인했습니다" in text for text in await bot_texts(app, second.id))
    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []


async def test_words_written_in_a_merged_away_topic_point_to_the_target(app: E2E) -> None:
    """They are refused, nothing reaches a citizen, and the answer links the target's topic."""
    await seed_staff(app)
    first = await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    source, target = await topics(app)
    source_thread = int(source["message_thread_id"])
    target_ref = target["name"].split()[-1]
    lead = app.world.person("최도윤")  # an admin: Telegram lets them write in a closed topic
    await merge_into(app, lead.id, source_thread)
    heard = {c.id: len(await bot_texts(app, c.id)) for c in (first, second)}
    before = len(await topic_messages(app, source_thread))

    await app.client.send_text(
        lead.id, app.world.staff_chat_id, "소방차 도착했습니다", message_thread_id=source_thread
    )
    await app.settle()

    (answer,) = [
        m for m in (await topic_messages(app, source_thread))[before:] if m["from"]["is_bot"]
    ]
    assert target_ref in text_of(answer) and "전달하지 않았습니다" in text_of(answer)
    assert any(f"/{target['message_thread_id']}" in url for url in links(answer))
    for citizen in (first, second):
        assert len(await bot_texts(app, citizen.id)) == heard[citizen.id]


async def test_the_merged_away_answer_speaks_the_staff_members_language(app: E2E) -> None:
    """An English-speaking staff member reads it in English."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    source, target = await topics(app)
    source_thread = int(source["message_thread_id"])
    user = await app.client.create_user(first_name="Jane Park", language_code="en")
    jane = int(user["id"])
    await app.client.add_member(app.world.staff_chat_id, jane)
    await app.client.set_admin(app.world.staff_chat_id, jane, {"can_manage_topics": True})
    async with app.runtime.session_factory() as session, session.begin():
        await register(
            session=session, user_id=jane, name="Jane Park", role="lead", now=app.clock.now()
        )
    await merge_into(app, jane, source_thread)
    before = len(await topic_messages(app, source_thread))

    await app.client.send_text(
        jane, app.world.staff_chat_id, "Fire engines arrived", message_thread_id=source_thread
    )
    await app.settle()

    (answer,) = [
        m for m in (await topic_messages(app, source_thread))[before:] if m["from"]["is_bot"]
    ]
    assert target["name"].split()[-1] in text_of(answer)
    assert "merged into" in text_of(answer) and "not sent" in text_of(answer)


async def test_citizens_of_an_unacknowledged_report_merged_into_a_taken_one_hear_it_is_handled(
    app: E2E,
) -> None:
    """One notice, which says the situation room already handles the incident they joined."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    taken, new = await topics(app)
    haeun = app.world.person("정하은")
    taken_card = await card(app, int(taken["message_thread_id"]))
    await press(app, haeun.id, taken_card, button_data(taken_card, "st:take:"))
    before = len(await bot_texts(app, second.id))

    await merge_into(app, haeun.id, int(new["message_thread_id"]))

    told = (await bot_texts(app, second.id))[before:]
    assert len(told) == 1  # one message, not a merge notice and an acknowledgement
    assert "합쳐졌습니다" in told[0] and "이미 이 사건을 확인하고 처리하고" in told[0]


async def test_a_merge_of_two_unacknowledged_reports_does_not_say_it_is_handled(
    app: E2E,
) -> None:
    """Neither was acknowledged: the merged citizens are not told the room handles it."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    _, new = await topics(app)

    await merge_into(app, app.world.person("정하은").id, int(new["message_thread_id"]))

    (merged,) = [t for t in await bot_texts(app, second.id) if "합쳐졌습니다" in t]
    assert "처리하고 있습니다" not in merged


async def test_an_escalated_incident_merged_into_another_brings_its_hand_overs(app: E2E) -> None:
    """The target, escalated by the merge, lists the 119 hand-over on its card and /history."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    target, escalated = await topics(app)
    source = int(escalated["message_thread_id"])
    thread = int(target["message_thread_id"])
    haeun = app.world.person("정하은")
    source_card = await card(app, source)
    await press(app, haeun.id, source_card, button_data(source_card, "st:esc:"))
    source_card = await card(app, source)
    to_119 = button_data(source_card, "st:esca:")
    assert to_119.endswith(":fire119")
    await press(app, haeun.id, source_card, to_119)
    source_card = await card(app, source)
    await press(app, haeun.id, source_card, button_data(source_card, "st:escm:"))
    assert "119 종합상황실에" in text_of(await card(app, source))

    await merge_into(app, haeun.id, source)

    target_card = text_of(await card(app, thread))
    assert (await topics(app))[0]["name"].startswith("🟠")  # escalated, as the source was
    assert "📞 119 종합상황실에" in target_card
    await app.client.send_text(
        haeun.id, app.world.staff_chat_id, "/history", message_thread_id=thread
    )
    await app.settle()
    (history,) = [
        text_of(m) for m in await topic_messages(app, thread) if "처리 이력" in text_of(m)
    ]
    assert "handover" in history and "fire119" in history


async def test_the_export_of_a_merged_incident_lists_its_hand_overs_as_moved(
    app: E2E, tmp_path: Path
) -> None:
    """The source's export keeps its 119 hand-over, marked as moved to the target; the
    target's export lists it once, from the source."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    _, escalated = await topics(app)
    source = int(escalated["message_thread_id"])
    haeun = app.world.person("정하은")
    source_card = await card(app, source)
    await press(app, haeun.id, source_card, button_data(source_card, "st:esc:"))
    source_card = await card(app, source)
    await press(app, haeun.id, source_card, button_data(source_card, "st:esca:"))
    source_card = await card(app, source)
    await press(app, haeun.id, source_card, button_data(source_card, "st:escm:"))
    await merge_into(app, haeun.id, source)

    out = tmp_path / "incidents.json"
    args = ["export", "incidents", "--database-url", app.settings.database_url, "-o", str(out)]
    assert await asyncio.to_thread(cli, args) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    merged = next(row for row in exported if row["merged_into_id"] is not None)
    kept = next(row for row in exported if row["merged_into_id"] is None)
    assert [(h["agency"], h["moved_to"], h["moved_from"]) for h in merged["handovers"]] == [
        ("fire119", kept["incident"], None)
    ]
    assert [(h["agency"], h["moved_to"], h["moved_from"]) for h in kept["handovers"]] == [
        ("fire119", None, merged["incident"])
    ]


async def test_a_stale_merge_button_names_the_closed_target_and_where_it_went(app: E2E) -> None:
    """A merge menu opened before its target was merged or closed answered "this incident is
    already closed", as if the incident on the card were: staff could not tell which one, nor
    where the target's reports went."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    await report_fire(app, "셋째", where=(37.5133, 127.1001))
    first, second, third = await topics(app)
    first_ref, second_ref, third_ref = (t["name"].split()[-1] for t in (first, second, third))
    first_thread = int(first["message_thread_id"])
    haeun = app.world.person("정하은")
    menu = await card(app, first_thread)
    await press(app, haeun.id, menu, button_data(menu, "st:mrg:"))
    menu = await card(app, first_thread)  # lists the second and the third incident
    to_second, to_third = sorted(
        b["callback_data"]
        for row in menu["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("st:mrgto:")
    )

    second_card = await card(app, int(second["message_thread_id"]))
    await press(app, haeun.id, second_card, f"st:mrg:{to_second.split(':')[3]}:")
    second_card = await card(app, int(second["message_thread_id"]))
    await press(app, haeun.id, second_card, button_data(second_card, "st:mrgto:"))  # into third

    answer = await press(app, haeun.id, menu, to_second)
    assert answer["text"] == (
        f"{second_ref} 사건은 이미 {third_ref} 건에 병합되었습니다."
        f" {third_ref} 건으로 병합해 주세요."
    )
    await app.client.send_text(
        haeun.id,
        app.world.staff_chat_id,
        "/close false_alarm",
        message_thread_id=int(third["message_thread_id"]),
    )
    await app.settle()
    answer = await press(app, haeun.id, menu, to_third)
    assert answer["text"] == f"{third_ref} 사건은 이미 종결되어 병합할 수 없습니다."
    assert first_ref in text_of(await card(app, first_thread))  # the first stays open
    assert not (await topics(app))[0].get("is_closed")


async def test_merge_with_no_other_open_incident_says_so_and_keeps_the_card(app: E2E) -> None:
    """The merge menu of the only open incident was an empty list with "choose one"."""
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    before = await card(app, thread)

    answer = await press(app, app.world.person("정하은").id, before, button_data(before, "st:mrg:"))

    assert answer["text"] == "병합할 다른 진행 중인 사건이 없습니다."
    assert (await card(app, thread))["reply_markup"] == before["reply_markup"]


async def test_merging_a_taken_incident_into_a_released_one_gives_it_the_holder(app: E2E) -> None:
    """A released target is back in the queue as an unacknowledged one is: the holder of the
    incident merged into it goes on handling its reports there, and nobody is chased."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    taken, released = await topics(app)
    haeun, daniel = app.world.person("정하은"), app.world.person("Daniel Cho")
    taken_card = await card(app, int(taken["message_thread_id"]))
    await press(app, haeun.id, taken_card, button_data(taken_card, "st:take:"))
    target = int(released["message_thread_id"])
    released_card = await card(app, target)
    await press(app, daniel.id, released_card, button_data(released_card, "st:take:"))
    released_card = await card(app, target)
    await press(app, daniel.id, released_card, button_data(released_card, "st:release:"))
    assert "담당: 없음" in text_of(await card(app, target))

    await merge_into(app, haeun.id, int(taken["message_thread_id"]))

    assert "담당: 정하은" in text_of(await card(app, target))
    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []
