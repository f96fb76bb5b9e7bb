"""End to end: merging incidents (every citizen hears once), the shift hand-over digest, and the
export of incidents with their whole timeline."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.middlewares.roles import build_room
from bot.scheduler import sweep_once
from bot.settings import Settings
from sandbox.images import tiny_png
from situation.roles import register
from situation.roster import Roster
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    all_incidents,
    bot_messages,
    bot_texts,
    north_of,
)
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


async def test_two_incidents_merge_and_every_citizen_hears_once(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    third = await report_fire(app, "셋째", where=north_of(GANGNAM, 50))
    first_topic, second_topic = await topics(app)
    target_ref = first_topic["name"].split()[-1]
    haeun = app.world.person("정하은")

    source_card = await card(app, int(second_topic["message_thread_id"]))
    await press(app, haeun.id, source_card, button_data(source_card, "st:mrg:"))
    source_card = await card(app, int(second_topic["message_thread_id"]))
    await press(app, haeun.id, source_card, button_data(source_card, "st:mrgto:"))

    for citizen in (second, third):
        merged = [t for t in await bot_texts(app, citizen.id) if "합쳐졌습니다" in t]
        assert len(merged) == 1 and target_ref in merged[0]
    first_topic, second_topic = await topics(app)
    assert second_topic["name"].startswith("✅") and second_topic.get("is_closed") is True
    target_card = await card(app, int(first_topic["message_thread_id"]))
    assert "연결된 신고: 3건" in text_of(target_card)


async def merge_second_into_first(app: E2E, user_id: int) -> None:
    """Merge the second incident's topic into the first one's with the card's buttons."""
    _, second_topic = await topics(app)
    thread = int(second_topic["message_thread_id"])
    source_card = await card(app, thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrg:"))
    source_card = await card(app, thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrgto:"))


async def test_a_merge_that_raises_the_priority_moves_the_running_deadline(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    first_topic, _ = await topics(app)
    thread = int(first_topic["message_thread_id"])
    haeun = app.world.person("정하은")
    target_card = await card(app, thread)
    p3 = button_data(target_card, "st:pri:").rsplit(":", 1)[0] + ":P3"
    await press(app, haeun.id, target_card, p3)  # staff judge the first fire less urgent

    await merge_second_into_first(app, haeun.id)  # the P1 fire joins the P3 incident
    assert "P1" in text_of(await card(app, thread)).splitlines()[1]

    app.clock.advance(timedelta(minutes=2, seconds=5))  # P1's acknowledgement time, not P3's
    await sweep(app)
    assert [m for m in await topic_messages(app, thread) if "⏰" in text_of(m)]


async def test_a_merge_shows_the_moved_reports_photos_and_places_in_the_target_topic(
    app: E2E,
) -> None:
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await app.citizen("둘째", "en")
    await app.client.send_text(second.id, second.id, "Smoke from the building across the road")
    await app.client.send_location(second.id, second.id, *GANGNAM)
    await app.settle()
    await app.client.send_photo(second.id, second.id, tiny_png(), caption="the stairwell")
    await app.settle()
    first_topic, _ = await topics(app)
    thread = int(first_topic["message_thread_id"])
    before = await topic_messages(app, thread)

    await merge_second_into_first(app, app.world.person("정하은").id)

    shown = (await topic_messages(app, thread))[len(before) :]
    assert [m for m in shown if m.get("photo")], "the moved report's photo"
    pins = [m["location"] for m in shown if m.get("location")]
    assert [(round(p["latitude"], 4), round(p["longitude"], 4)) for p in pins] == [GANGNAM]
    assert "사진 1장" in text_of(await card(app, thread))


async def test_shift_handover_digest_lists_open_incidents_and_releases_the_leaving_team(
    app: E2E,
) -> None:
    await seed_staff(app)  # teams alternate: 이서연 A, 최도윤 B, 정하은 A, Daniel Cho B
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    first_topic, second_topic = await topics(app)
    haeun = app.world.person("정하은")
    held = await card(app, int(first_topic["message_thread_id"]))
    await press(app, haeun.id, held, button_data(held, "st:take:"))

    now = app.clock.now()
    anchor = now - timedelta(hours=12, minutes=1)  # team A's shift ended a minute ago
    roster = Roster(teams=("A", "B"), shift_length=timedelta(hours=12), anchor=anchor)
    room = build_room(app.settings)
    room = type(room)(**{**room.__dict__, "roster": roster})
    report = await sweep_once(session_factory=app.runtime.session_factory, room=room, now=now)
    await app.settle()
    assert report.handover
    again = await sweep_once(session_factory=app.runtime.session_factory, room=room, now=now)
    assert not again.handover  # posted once per shift change

    general = await app.client.messages(app.world.staff_chat_id)
    (digest,) = [m for m in general if "근무 교대" in text_of(m)]
    for topic in (first_topic, second_topic):
        assert topic["name"].split()[-1] in text_of(digest)
    assert "담당을 해제" in text_of(digest) and "Daniel Cho" in text_of(digest)
    released = await card(app, int(first_topic["message_thread_id"]))
    assert "담당: 없음" in text_of(released)


def _team_a_ends_in_ten_minutes(settings: Settings) -> None:
    """A roster of teams A, B, C in 12-hour shifts; team A's ends ten minutes from now."""
    anchor = datetime.now(UTC) - timedelta(hours=11, minutes=50)
    path = settings.media_dir.parent / "roster.toml"
    path.write_text(
        f'[rotation]\nanchor = "{anchor.isoformat()}"\nshift_hours = 12\nteams = ["A", "B", "C"]\n',
        encoding="utf-8",
    )
    settings.situation_room.roster_file = path


@pytest.mark.bot_settings.with_args(_team_a_ends_in_ten_minutes)
async def test_the_handover_after_a_duty_override_hands_over_the_team_really_on_duty(
    app: E2E,
) -> None:
    """A lead puts team C on duty instead of A (/duty set C); at the change to B the hand-over
    names C as the leaving team, says a lead changed it, and releases C's incidents."""
    await seed_staff(app)  # teams alternate: 이서연 A, 최도윤 B (lead), 정하은 A, Daniel Cho B
    jisu = int((await app.client.create_user(first_name="박지수"))["id"])
    await app.client.add_member(app.world.staff_chat_id, jisu)
    async with app.runtime.session_factory() as session, session.begin():
        await register(
            session=session,
            user_id=jisu,
            name="박지수",
            role="staff",
            team="C",
            now=app.clock.now(),
        )
    chat = app.world.staff_chat_id
    doyun = app.world.person("최도윤")
    await app.client.send_text(doyun.id, chat, "/duty set C")
    await app.settle()
    assert any("C조 (조장 변경)" in text_of(m) for m in await app.client.messages(chat))

    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    await press(app, jisu, the_card, button_data(the_card, "st:take:"))
    assert "담당: 박지수" in text_of(await card(app, thread))

    app.clock.advance(timedelta(minutes=11))  # team B's shift begins
    assert (await sweep(app)).handover
    shown = [text_of(m) for m in await app.client.messages(chat) if "근무 교대" in text_of(m)]
    digest = shown[-1]
    assert digest.startswith("🔄 근무 교대: C조 (조장 변경) → B조")
    assert "Daniel Cho" in digest and "담당을 해제" in digest
    assert "담당: 없음" in text_of(await card(app, thread))


async def test_export_contains_the_whole_timeline(app: E2E, tmp_path: Path) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    staff_chat = app.world.staff_chat_id
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    to_p2 = button_data(the_card, "st:take:").replace(":take:", ":pri:") + "P2"
    await press(app, haeun.id, the_card, to_p2)
    await app.client.send_text(haeun.id, staff_chat, "! 내부 메모", message_thread_id=thread)
    await app.client.send_text(haeun.id, staff_chat, "곧 도착합니다", message_thread_id=thread)
    await app.client.send_text(
        haeun.id, staff_chat, "/close resolved 진화 완료", message_thread_id=thread
    )
    await app.settle()

    url = app.settings.database_url
    out_json, out_csv = tmp_path / "incidents.json", tmp_path / "incidents.csv"
    args = ["export", "incidents", "--database-url", url]
    assert await asyncio.to_thread(cli, [*args, "--format", "json", "-o", str(out_json)]) == 0
    assert await asyncio.to_thread(cli, [*args, "--format", "csv", "-o", str(out_csv)]) == 0

    (incident,) = json.loads(out_json.read_text(encoding="utf-8"))
    actions = [event["action"] for event in incident["timeline"]]
    assert actions == ["opened", "take", "priority", "note", "message_out", "close"]
    assert incident["status"] == "closed" and incident["closing_note"].endswith("진화 완료")
    take = incident["timeline"][1]
    assert take["actor"] == "정하은" and take["before"]["status"] == "new"
    assert datetime.fromisoformat(take["at"]).tzinfo is not None
    assert datetime.fromisoformat(take["at"]) <= datetime.now(UTC) + timedelta(minutes=1)
    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8").splitlines()))
    assert [row["event_action"] for row in rows] == actions
    assert {row["incident"] for row in rows} == {incident["incident"]}


async def test_two_staff_taking_at_once_are_told_who_holds_it_and_may_take_over(
    app: E2E,
) -> None:
    """Both pressed Take on the same card: one holds it, the other reads who does."""
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    haeun, doyun = app.world.person("정하은"), app.world.person("최도윤")
    take = button_data(the_card, "st:take:")

    answers = await asyncio.gather(
        *(
            app.client.press_button(
                person.id, app.world.staff_chat_id, int(the_card["message_id"]), take
            )
            for person in (haeun, doyun)
        )
    )
    await app.settle()

    by_text = sorted(answer["text"] for answer in answers)
    assert by_text[0] == "담당으로 지정되었습니다."
    assert by_text[1].endswith(
        "님이 이미 담당 중입니다. 넘겨받으려면 카드의 ‘넘겨받기’를 누르세요."
    )
    winner = haeun if answers[0]["text"] == "담당으로 지정되었습니다." else doyun
    loser = doyun if winner is haeun else haeun
    assert winner.name in by_text[1]
    held = await card(app, thread)
    assert f"담당: {winner.name}" in text_of(held)

    answer = await press(app, loser.id, held, button_data(held, "st:takeover:"))
    assert answer["text"] == "담당으로 지정되었습니다."
    assert f"담당: {loser.name}" in text_of(await card(app, thread))


async def test_a_follow_up_no_brings_the_incident_back_to_the_room(app: E2E) -> None:
    """Closed, asked "are you safe?", the citizen answers no: the incident is new again (topic
    reopened, card redrawn, deadline escalating), the citizen is told, and their next words
    reach the topic."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    await app.client.send_text(
        haeun.id, chat, "/close resolved 진화 완료", message_thread_id=thread
    )
    await app.settle()
    (closed,) = await topics(app)
    assert closed["name"].startswith("✅") and closed.get("is_closed") is True

    app.clock.advance(timedelta(hours=2, minutes=1))
    await sweep(app)
    (question,) = [m for m in await bot_messages(app, citizen.id) if "안전하신가요" in text_of(m)]
    await app.client.press_button(
        citizen.id,
        citizen.id,
        int(question["message_id"]),
        button_data(question, "fu:").rsplit(":", 1)[0] + ":no",
    )
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.status == "new" and incident.holder is None and incident.closed_at is None
    (reopened,) = await topics(app)
    assert reopened["name"].startswith("🔴") and not reopened.get("is_closed")
    redrawn = text_of(await card(app, thread))
    assert "담당: 없음" in redrawn and "진화 완료" not in redrawn
    told = (await bot_texts(app, citizen.id))[-1]
    assert "다시 맡아" in told and str(incident.reference) in told
    shown = [text_of(m) for m in await topic_messages(app, thread)]
    assert any("사건을 다시 열었습니다" in text for text in shown)

    await app.client.send_text(citizen.id, citizen.id, "아직 연기가 계속 나요")
    await app.settle()
    assert any("아직 연기가 계속 나요" in text_of(m) for m in await topic_messages(app, thread))
    assert len(await all_incidents(app)) == 1  # their words joined the reopened incident

    app.clock.advance(timedelta(minutes=2, seconds=5))  # P1: the chain runs again
    await sweep(app)
    assert [m for m in await topic_messages(app, thread) if "⏰" in text_of(m)]


async def answer_follow_up(app: E2E, citizen_id: int, answer: str) -> None:
    """The citizen answers the latest "are you safe?" question they were asked."""
    *_, question = [m for m in await bot_messages(app, citizen_id) if "안전하신가요" in text_of(m)]
    await app.client.press_button(
        citizen_id,
        citizen_id,
        int(question["message_id"]),
        button_data(question, "fu:").rsplit(":", 1)[0] + ":" + answer,
    )
    await app.settle()


async def test_a_reopened_incident_asks_nobody_are_you_safe_until_closed_again(app: E2E) -> None:
    """Closed twice: after the first round, one "no" reopens it and it is closed again; the
    other citizen's late "no" reopens it again. The second closing's follow-ups, not asked yet,
    are dropped: no citizen is asked about an open incident. Closed again, they are asked."""
    await seed_staff(app)
    first = await report_fire(app, "첫째")
    second = await report_fire(app, "둘째")
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")

    async def close() -> None:
        await app.client.send_text(haeun.id, chat, "/close resolved", message_thread_id=thread)
        await app.settle()
        (closed,) = await topics(app)
        assert closed.get("is_closed") is True

    async def asked(citizen_id: int) -> int:
        return len([t for t in await bot_texts(app, citizen_id) if "안전하신가요" in t])

    await close()
    app.clock.advance(timedelta(hours=2, minutes=1))
    await sweep(app)
    assert (await asked(first.id), await asked(second.id)) == (1, 1)
    await answer_follow_up(app, first.id, "no")  # reopened
    await close()  # the second round of follow-ups is scheduled
    app.clock.advance(timedelta(minutes=5))
    await answer_follow_up(app, second.id, "no")  # reopened again, by the first round's question
    (incident,) = await all_incidents(app)
    assert incident.status == "new"

    app.clock.advance(timedelta(hours=2, minutes=1))  # the second round would be due now
    await sweep(app)
    assert (await asked(first.id), await asked(second.id)) == (1, 1)

    await close()  # closed again: asked as after any closing
    app.clock.advance(timedelta(hours=2, minutes=1))
    await sweep(app)
    assert (await asked(first.id), await asked(second.id)) == (2, 2)


async def test_the_agencys_reference_reads_on_the_card_as_typed(app: E2E) -> None:
    """The card showed the hand-over's reference as "<code>119-&lt;7&gt;</code>": escaped twice."""
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    for prefix in ("st:esc:", "st:esca:", "st:escm:"):  # 119, by phone
        the_card = await card(app, thread)
        await press(app, haeun.id, the_card, button_data(the_card, prefix))

    await app.client.send_text(
        haeun.id, app.world.staff_chat_id, "/ref 119-<7> & 3", message_thread_id=thread
    )
    await app.settle()

    the_card = await card(app, thread)
    (line,) = [line for line in text_of(the_card).splitlines() if line.startswith("📞")]
    assert line == "📞 119 종합상황실에 전화(으)로 이관 · 접수번호 119-<7> & 3"
    assert any(e["type"] == "code" for e in the_card.get("entities", []))
