"""End to end: citizens report through the sandbox and get a reference and the right manual."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.settings import Settings
from sandbox.images import tiny_png
from storage.models.outbox import OutboxMessage
from storage.models.reports import Report
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    all_incidents,
    bot_messages,
    bot_text,
    bot_texts,
    media_of,
    north_of,
    reports_of,
    settle,
)
from tests.e2e.conftest import E2E


async def test_korean_text_photo_and_location_make_one_report(app: E2E) -> None:
    citizen = await app.citizen("김시민", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "아파트 3층 복도에서 불이 났어요")
    await client.send_photo(citizen.id, chat, tiny_png(rgb=(250, 80, 0)))
    await client.send_location(citizen.id, chat, *CITY_HALL, horizontal_accuracy=15)
    await settle(app, chat)

    (report,) = await reports_of(app, citizen.id)
    assert report.status == "filed" and report.reference is not None
    assert report.scenario == "fire" and report.language == "ko"
    assert report.district_name == "중구" and report.district_code is not None
    assert report.accuracy == 15
    (media,) = await media_of(app, report.id)
    assert media.status == "stored" and media.sha256
    stored = Path(app.settings.media_dir) / (media.path or "")
    assert stored.read_bytes() == tiny_png(rgb=(250, 80, 0))
    (incident,) = await all_incidents(app)
    assert report.incident_id == incident.id and incident.report_count == 1

    texts = await bot_texts(app, chat)
    assert "119" in texts[0]  # fire words: call 119 first
    assert any(report.reference in text for text in texts)
    manual = next(m for m in await bot_messages(app, chat) if "불이야" in (m.get("text") or ""))
    buttons = manual["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["callback_data"] == "cmp:fire:1:ko"


async def test_album_of_four_photos_interleaved_with_a_location_is_one_report(app: E2E) -> None:
    citizen = await app.citizen("박앨범", "ko")
    client, chat = app.client, citizen.id
    photos = [tiny_png(rgb=(10 * i, 100, 100)) for i in range(4)]
    group = "album-e2e-1"
    await client.send_photo(citizen.id, chat, photos[2], media_group_id=group)
    await client.send_photo(
        citizen.id, chat, photos[0], media_group_id=group, caption="지붕이 무너졌어요"
    )
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_photo(citizen.id, chat, photos[3], media_group_id=group)
    await client.send_photo(citizen.id, chat, photos[1], media_group_id=group)
    await settle(app, chat)

    (report,) = await reports_of(app, citizen.id)
    media = await media_of(app, report.id)
    assert len(media) == 4 and {m.status for m in media} == {"stored"}
    assert len({m.sha256 for m in media}) == 4
    assert report.status == "filed" and report.latitude is not None
    texts = await bot_texts(app, chat)
    assert sum("✅" in text for text in texts) == 1


async def test_two_reports_100_m_apart_join_one_incident(app: E2E) -> None:
    first = await app.citizen("첫째", "ko")
    second = await app.citizen("Second", "en")
    client = app.client
    await client.send_text(first.id, first.id, "불이 났어요! 상가 건물에서 연기가 나요")
    await client.send_location(first.id, first.id, *CITY_HALL)
    await settle(app, first.id)
    await client.send_text(second.id, second.id, "There is a fire, black smoke from a shop")
    await client.send_location(second.id, second.id, *north_of(CITY_HALL, 100))
    await settle(app, second.id)

    (incident,) = await all_incidents(app)
    assert incident.report_count == 2 and incident.scenario == "fire"
    (a,) = await reports_of(app, first.id)
    (b,) = await reports_of(app, second.id)
    assert a.incident_id == b.incident_id == incident.id
    texts = await bot_texts(app, second.id)
    (known,) = [text for text in texts if "already knows about this" in text]
    assert (incident.reference or "") in known
    assert known.startswith("📍 Location received")  # the location's answer says both


async def test_writing_again_hours_later_about_the_open_incident_joins_it(app: E2E) -> None:
    """Two hours on, past the follow-up and clustering windows, a second topic was opened."""
    for name, lang, first, again in (
        ("두시간", "ko", "아파트 3층 복도에서 불이 났어요", "아직도 불이 꺼지지 않았어요"),
        ("Later", "en", "Fire in the apartment corridor", "The fire is still burning"),
    ):
        citizen = await app.citizen(name, lang)
        place = north_of(CITY_HALL, 5000 if lang == "en" else 0)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, first)
        await client.send_location(citizen.id, chat, *place)
        await settle(app, chat)
        app.clock.advance(timedelta(hours=2))
        await client.send_text(citizen.id, chat, again)
        await client.send_location(citizen.id, chat, *north_of(place, 50))
        await settle(app, chat)

        earlier, later = await reports_of(app, citizen.id)
        assert later.incident_id == earlier.incident_id, lang
    first_incident, second_incident = await all_incidents(app)
    assert first_incident.report_count == second_incident.report_count == 2


async def test_the_same_citizen_at_another_place_opens_another_incident(app: E2E) -> None:
    citizen = await app.citizen("다른곳", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "아파트 3층 복도에서 불이 났어요")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await settle(app, chat)
    app.clock.advance(timedelta(hours=2))
    await client.send_text(citizen.id, chat, "다른 동네 상가에서 불이 났어요")
    await client.send_location(citizen.id, chat, *north_of(CITY_HALL, 3000))
    await settle(app, chat)
    earlier, later = await reports_of(app, citizen.id)
    assert later.incident_id != earlier.incident_id and len(await all_incidents(app)) == 2


async def test_urgent_message_gets_the_119_prompt_first(app: E2E) -> None:
    citizen = await app.citizen("급한사람", "ko")
    await app.client.send_text(citizen.id, citizen.id, "사람이 엘리베이터에 갇혔어요 의식이 없어요")
    await settle(app, citizen.id)
    texts = await bot_texts(app, citizen.id)
    assert texts and "119" in texts[0] and "지금 바로" in texts[0]
    (report,) = await reports_of(app, citizen.id)
    assert report.urgent and report.status == "filed"
    assert any(report.reference in text for text in texts[1:])


async def test_a_car_under_water_in_an_underpass_gets_the_119_prompt_first(app: E2E) -> None:
    citizen = await app.citizen("지하차도", "ko")
    await app.client.send_text(citizen.id, citizen.id, "지하차도에 물이 차올라서 차가 잠겼어요")
    await settle(app, citizen.id)
    texts = await bot_texts(app, citizen.id)
    assert texts and texts[0].startswith("🚨 지금 바로 119에 전화하세요")
    (report,) = await reports_of(app, citizen.id)
    assert report.urgent and report.scenario == "inundation"


async def test_a_locked_door_is_not_urgent(app: E2E) -> None:
    citizen = await app.citizen("열쇠", "ko")
    await app.client.send_text(citizen.id, citizen.id, "현관문이 잠겨서 못 들어가요")
    await settle(app, citizen.id)
    texts = await bot_texts(app, citizen.id)
    assert texts and not any(text.startswith("🚨") for text in texts)
    (report,) = await reports_of(app, citizen.id)
    assert not report.urgent
    assert report.scenario != "inundation"  # "잠겼" of a door is not water either


async def test_a_tree_fallen_in_the_wind_is_not_a_person_collapsing(app: E2E) -> None:
    citizen = await app.citizen("가로수", "ko")
    await app.client.send_text(citizen.id, citizen.id, "나무가 바람에 쓰러졌어요")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await settle(app, citizen.id)
    await app.settle()
    texts = await bot_texts(app, citizen.id)
    assert texts and not any(text.startswith("🚨") for text in texts)
    (report,) = await reports_of(app, citizen.id)
    assert not report.urgent and report.scenario == "strong_wind"
    (incident,) = await all_incidents(app)
    assert incident.priority != "P1"


async def _reports_stored(app: E2E, count: int) -> None:
    """Wait until ``count`` reports are stored and no update is in flight."""
    async with asyncio.timeout(20):
        while True:
            async with app.runtime.session_factory() as session:
                stored = (await session.exec(select(func.count()).select_from(Report))).one()
            undelivered = await app.client.pending_updates(app.token)
            if stored >= count and not undelivered and not app.runtime.dispatcher_busy():
                return
            await asyncio.sleep(0.05)


def _sender_at_four_a_second(settings: Settings) -> None:
    settings.sender.global_per_second = 4
    settings.sender.global_burst = 1


@pytest.mark.bot_settings.with_args(_sender_at_four_a_second)
async def test_in_a_queue_every_manual_goes_out_before_the_confirmations(app: E2E) -> None:
    """When the sender is the bottleneck, each citizen's manual overtakes others' replies."""
    citizens = [await app.citizen(name) for name in ("가", "나", "다", "라")]
    await app.runtime.sender.stop()  # the reports queue up, as behind Telegram's limit
    await asyncio.gather(
        *(
            app.client.send_text(c.id, c.id, f"지하 주차장에 물이 차올라요 ({i})")
            for i, c in enumerate(citizens)
        )
    )
    await _reports_stored(app, len(citizens))
    await app.runtime.sender.start()
    chats = [c.id for c in citizens]
    await settle(app, *chats, timeout=30)

    async with app.runtime.session_factory() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.chat_id).in_(chats))
                .order_by(col(OutboxMessage.sent_at))
            )
        ).all()
    order = ["manual" if row.payload.get("buttons") else "reply" for row in rows]
    # Queued per citizen as manual, then confirmation; sent first come, first served, they
    # would alternate. By priority every manual goes first.
    assert order == ["manual"] * len(citizens) + ["reply"] * len(citizens), order


async def test_another_incident_written_soon_after_opens_a_new_report(app: E2E) -> None:
    """A fire next door written 10 minutes after a flood was appended to the flood report."""
    for name, lang, flood, unclear, fire, new_report in (
        (
            "침수후화재",
            "ko",
            "집 앞 도로가 침수됐어요",
            "물이 더 차올라요",
            "옆 건물에 불이 났어요",
            "새 신고",
        ),
        (
            "FloodFire",
            "en",
            "The street is flooded",
            "still here",
            "There is a fire next door",
            "new report",
        ),
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        place = north_of(CITY_HALL, 8000 if lang == "en" else 0)
        await client.send_text(citizen.id, chat, flood)
        await client.send_location(citizen.id, chat, *place)
        await settle(app, chat)
        app.clock.advance(timedelta(minutes=5))
        await client.send_text(citizen.id, chat, unclear)  # unclear words join the open report
        await settle(app, chat)
        (report,) = await reports_of(app, citizen.id)
        assert unclear in (report.text or ""), lang

        app.clock.advance(timedelta(minutes=5))
        await client.send_text(citizen.id, chat, fire)
        await settle(app, chat)
        flooded, burning = await reports_of(app, citizen.id)
        assert flooded.scenario == "inundation" and fire not in (flooded.text or ""), lang
        assert burning.scenario == "fire" and burning.text == fire, lang
        told = [t for t in await bot_texts(app, chat) if (burning.reference or "-") in t]
        assert told and new_report in told[-1] and (flooded.reference or "-") in told[-1], lang

        # What follows at once belongs to the newest report: its photo and its place.
        await client.send_photo(citizen.id, chat, tiny_png())
        await client.send_location(citizen.id, chat, *north_of(place, 60))
        await settle(app, chat)
        flooded, burning = await reports_of(app, citizen.id)
        assert len(await media_of(app, burning.id)) == 1 and not await media_of(app, flooded.id)
        assert burning.latitude == pytest.approx(north_of(place, 60)[0]), lang
        assert burning.incident_id is not None and burning.incident_id != flooded.incident_id
    incidents = await all_incidents(app)
    assert sorted(i.scenario or "" for i in incidents) == [
        "fire",
        "fire",
        "inundation",
        "inundation",
    ]


async def test_a_situation_getting_worse_stays_one_report(app: E2E) -> None:
    """A trapped citizen's "still trapped, smoke now" was filed as a second, fire report."""
    for name, lang, first, worse in (
        ("Lift", "en", "people are trapped in the lift", "still trapped, smoke now"),
        ("엘베", "ko", "엘리베이터에 갇혔어요", "연기가 나요"),  # trapped: where they are
        (
            "침수",
            "ko",
            "집 앞 도로가 침수됐어요",
            "이제 옆 건물에서 연기가 나요",
        ),  # "이제": goes on
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, first)
        await client.send_location(citizen.id, chat, *north_of(CITY_HALL, 3000))
        await settle(app, chat)
        app.clock.advance(timedelta(minutes=3))
        await client.send_text(citizen.id, chat, worse)
        await settle(app, chat)
        (report,) = await reports_of(app, citizen.id)
        assert report.text == f"{first}\n{worse}", name
        texts = await bot_texts(app, chat)
        assert not any("new report" in t or "새 신고" in t for t in texts), name


async def test_thanks_after_a_report_is_acknowledged_and_nothing_more(app: E2E) -> None:
    """ "thanks" was spell-corrected to "tanks": a new emergency-state report with its manual."""
    for name, lang, first, thanks, added in (
        ("Thankful", "en", "There is a fire in my building", "thanks", "Added to report"),
        ("OkBye", "en", "There is a fire in my building", "ok thank you!", "Added to report"),
        ("감사", "ko", "아파트에 불이 났어요", "네 감사합니다", "추가되었습니다"),
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, first)
        await client.send_location(citizen.id, chat, *north_of(CITY_HALL, 6000))
        await settle(app, chat)
        before = len(await bot_messages(app, chat))
        app.clock.advance(timedelta(minutes=2))
        await client.send_text(citizen.id, chat, thanks)
        await settle(app, chat)
        (report,) = await reports_of(app, citizen.id)
        assert report.scenario == "fire" and report.text == f"{first}\n{thanks}", name
        answers = (await bot_messages(app, chat))[before:]
        (answer,) = answers  # the acknowledgement alone: no manual, no prompt, no choices
        assert added in bot_text(answer) and (report.reference or "-") in bot_text(answer), name
        assert "reply_markup" not in answer or not answer["reply_markup"].get("inline_keyboard")


async def test_thanks_with_no_report_open_is_answered_and_stores_nothing(app: E2E) -> None:
    """ "thanks" as a first message opened a draft report and asked where it happened."""
    for name, lang, thanks, answer in (
        ("FirstThanks", "en", "thanks", "You're welcome"),
        ("첫감사", "ko", "네 감사합니다", "천만에요"),
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, thanks)
        await settle(app, chat)
        assert await reports_of(app, citizen.id) == [], name
        (reply,) = await bot_messages(app, chat)
        assert answer in bot_text(reply), name
        assert "reply_markup" not in reply, name  # no location button, no choices
        # Words after it are a report like any first message.
        await client.send_text(citizen.id, chat, "There is a fire in my building")
        await settle(app, chat)
        (report,) = await reports_of(app, citizen.id)
        assert report.scenario == "fire" and report.text == "There is a fire in my building"


async def test_a_child_locked_in_a_car_is_urgent_a_locked_car_is_not(app: E2E) -> None:
    """After "a car needs water to be urgent", a child locked in a car got no 119 prompt."""
    for name, text, urgent in (
        ("아이", "잠긴 차 안에 아이가 있어요", True),
        ("아기", "차가 잠겼는데 안에 아기가 있어요", True),
        ("Baby", "my baby is in the locked car", True),
        ("차주", "차가 잠겼어요", False),
    ):
        citizen = await app.citizen(name, "en" if name == "Baby" else "ko")
        await app.client.send_text(citizen.id, citizen.id, text)
        await settle(app, citizen.id)
        texts = await bot_texts(app, citizen.id)
        assert texts and texts[0].startswith("🚨") is urgent, text
        (report,) = await reports_of(app, citizen.id)
        assert report.urgent is urgent, text


async def test_laughter_is_no_emergency_a_burst_gas_canister_is(app: E2E) -> None:
    """ "터졌어요ㅋㅋ" ("I burst out laughing") got the 119 prompt and the explosion manual."""
    laughing = await app.citizen("웃음", "ko")
    await app.client.send_text(laughing.id, laughing.id, "터졌어요ㅋㅋ")
    await settle(app, laughing.id)
    messages = await bot_messages(app, laughing.id)
    assert not any(bot_text(m).startswith("🚨") for m in messages)
    # Not sure of an explosion: the choices, not the explosion manual sent as sure.
    assert not any("cmp:explosion" in str(m.get("reply_markup")) for m in messages)
    (report,) = await reports_of(app, laughing.id)
    assert not report.urgent

    canister = await app.citizen("가스통", "ko")
    await app.client.send_text(canister.id, canister.id, "가스통이 터졌어요")
    await settle(app, canister.id)
    texts = await bot_texts(app, canister.id)
    assert texts and texts[0].startswith("🚨 지금 바로 119에 전화하세요")
    (report,) = await reports_of(app, canister.id)
    assert report.urgent and report.scenario == "explosion"
