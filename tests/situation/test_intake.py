"""Citizen messages become reports, incidents and answers (domain level, real database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from situation import scenarios
from situation.intake import (
    IncomingFile,
    IncomingMessage,
    IncomingPlace,
    file_stale_drafts,
    note_unshown_live_locations,
    receive_message,
    tells_another_incident,
    update_live_location,
)
from situation.scenarios import classify_report
from storage.models.citizens import Citizen
from storage.models.incidents import Incident
from storage.models.outbox import Priority
from storage.models.reports import MediaStatus, Report, ReportMedia, ReportMessage
from tests.situation.conftest import START, Steps, texts

CITY_HALL = IncomingPlace(latitude=37.5663, longitude=126.9779, accuracy=12.0)  # 중구, Seoul
NEARBY = IncomingPlace(latitude=37.5663 + 100 / 111_195.0, longitude=126.9779)  # 100 m north
BUSAN = IncomingPlace(latitude=35.1796, longitude=129.0756)
JPEG = b"\xff\xd8\xff\xe0 fake jpeg "


def photo(n: int = 0, *, size: int | None = None, data: bytes | None = None) -> IncomingFile:
    content = data if data is not None else JPEG + bytes([n])
    return IncomingFile(
        kind="photo",
        file_id=f"file-{n}",
        file_unique_id=f"uniq-{n}",
        size=size if size is not None else len(content),
        suffix=".jpg",
        data=content,
    )


def choice_report(data: str) -> str:
    return data.split(":")[1]


async def reports_of(steps: Steps, user_id: int) -> list[Report]:
    async with steps.tx() as session:
        citizen = (
            await session.exec(select(Citizen).where(col(Citizen.telegram_user_id) == user_id))
        ).one()
        rows = await session.exec(
            select(Report).where(col(Report.citizen_id) == citizen.id).order_by(col(Report.id))
        )
        return list(rows.all())


async def media_of(steps: Steps, report_id: int) -> list[ReportMedia]:
    async with steps.tx() as session:
        rows = await session.exec(
            select(ReportMedia)
            .where(col(ReportMedia.report_id) == report_id)
            .order_by(col(ReportMedia.message_id))
        )
        return list(rows.all())


async def incidents(steps: Steps) -> list[Incident]:
    async with steps.tx() as session:
        return list((await session.exec(select(Incident).order_by(col(Incident.id)))).all())


async def test_korean_fire_report_with_photo_and_location(steps: Steps, media_dir: Path) -> None:
    user = 1001
    await steps.send(user, text="아파트 3층에 불이 났어요, 연기가 많이 나요")
    await steps.send(user, kind="photo", file=photo(1), now=START + timedelta(seconds=5))
    await steps.send(user, kind="location", place=CITY_HALL, now=START + timedelta(seconds=9))

    (report,) = await reports_of(steps, user)
    assert report.status == "filed"
    assert report.reference is not None and report.reference.startswith("R-20261122-")
    assert report.scenario == "fire" and report.urgent
    assert report.district_name == "중구" and report.district_code
    assert report.accuracy == 12.0 and not report.outside_service_area
    (media,) = await media_of(steps, report.id or 0)
    assert media.status == MediaStatus.STORED and media.sha256
    assert (media_dir / (media.path or "")).read_bytes() == JPEG + b"\x01"

    (incident,) = await incidents(steps)
    assert report.incident_id == incident.id and incident.scenario == "fire"
    assert incident.priority == "P1" and incident.report_count == 1
    assert incident.district_name == "중구" and incident.latitude == CITY_HALL.latitude

    rows = await steps.outbox(user)
    sent = texts(rows)
    # What to do now comes before anything else: the "call 119" prompt, then the manual,
    # both ahead of other citizens' replies; the confirmation follows and asks where.
    prompt, manual, confirmation = rows[:3]
    assert "119" in prompt["text"] and prompt["priority"] == Priority.GUIDANCE
    assert "불이야" in manual["text"] and manual["priority"] == Priority.GUIDANCE
    assert manual["buttons"][0][0]["data"] == "cmp:fire:1:ko"
    assert report.reference in confirmation["text"]
    assert confirmation["reply_keyboard"]["keyboard"][0][0]["request_location"] is True
    assert any("중구" in text for text in sent)  # location received, with its district
    assert {row["priority"] for row in rows[2:]} == {Priority.CITIZEN_REPLY}


async def test_album_interleaved_with_location_is_one_report(steps: Steps) -> None:
    user = 1002
    order = [(3, "photo"), (1, "photo"), (0, "location"), (4, "photo"), (2, "photo")]
    for i, (n, kind) in enumerate(order):
        now = START + timedelta(milliseconds=200 * i)
        if kind == "photo":
            await steps.send(user, kind="photo", file=photo(n), media_group_id="album-1", now=now)
        else:
            await steps.send(user, kind="location", place=CITY_HALL, now=now)

    (report,) = await reports_of(steps, user)
    media = await media_of(steps, report.id or 0)
    assert len(media) == 4 and {m.media_group_id for m in media} == {"album-1"}
    assert {m.file_id for m in media} == {"file-1", "file-2", "file-3", "file-4"}
    assert report.status == "filed" and report.district_name == "중구"
    sent = texts(await steps.outbox(user))
    assert sum(report.reference in text for text in sent if "✅" in text) == 1
    assert sum("어디인가요" in text for text in sent) <= 1


async def test_two_reports_of_one_fire_join_one_incident(steps: Steps) -> None:
    await steps.send(2001, text="건물에서 불이 났어요")
    await steps.send(2001, kind="location", place=CITY_HALL, now=START + timedelta(seconds=10))
    await steps.send(2002, text="불이 났어요 연기가 보여요", now=START + timedelta(minutes=3))
    await steps.send(
        2002, kind="location", place=NEARBY, now=START + timedelta(minutes=3, seconds=8)
    )

    (incident,) = await incidents(steps)
    assert incident.report_count == 2 and incident.located_reports == 2
    assert incident.latitude is not None and incident.latitude > CITY_HALL.latitude
    (first,) = await reports_of(steps, 2001)
    (second,) = await reports_of(steps, 2002)
    assert first.incident_id == second.incident_id == incident.id
    known = [text for text in texts(await steps.outbox(2002)) if "이미 상황실에 접수" in text]
    assert len(known) == 1 and (incident.reference or "") in known[0]
    assert known[0].startswith("📍 위치를 받았습니다")  # one answer to the location, not two
    assert not any("이미 상황실에 접수" in text for text in texts(await steps.outbox(2001)))


async def test_far_report_opens_its_own_incident(steps: Steps) -> None:
    await steps.send(2101, kind="location", place=CITY_HALL)
    await steps.send(2101, text="불이 났어요", now=START + timedelta(seconds=5))
    far = IncomingPlace(latitude=37.5663 + 0.02, longitude=126.9779)
    await steps.send(2102, kind="location", place=far, now=START + timedelta(minutes=1))
    await steps.send(2102, text="불이 났어요", now=START + timedelta(minutes=1, seconds=5))
    assert len(await incidents(steps)) == 2


async def test_sticker_empty_and_absurd_location_get_polite_answers(steps: Steps) -> None:
    user = 3001
    await steps.send(user, kind="unsupported")
    await steps.send(user, text="   ")
    await steps.send(user, kind="location", place=IncomingPlace(latitude=200.0, longitude=10.0))
    await steps.send(user, kind="location", place=IncomingPlace(latitude=0.0, longitude=0.0))
    sent = texts(await steps.outbox(user))
    assert len(sent) == 4
    assert "스티커" in sent[0] and "빈 메시지" in sent[1]
    assert "위치가 올바르지" in sent[2] and "위치가 올바르지" in sent[3]
    assert await reports_of(steps, user) == []


async def test_oversized_and_failed_photos_are_explained_and_nothing_is_lost(steps: Steps) -> None:
    user = 3002
    await steps.send(user, text="도로가 물에 잠겼어요")
    big = IncomingFile(kind="photo", file_id="big", size=25 * 1024 * 1024, data=None)
    await steps.send(user, kind="photo", file=big, now=START + timedelta(seconds=3))
    broken = IncomingFile(kind="photo", file_id="broken", size=1000, problem=MediaStatus.FAILED)
    await steps.send(user, kind="photo", file=broken, now=START + timedelta(seconds=6))

    (report,) = await reports_of(steps, user)
    assert report.text == "도로가 물에 잠겼어요"
    statuses = {m.file_id: m.status for m in await media_of(steps, report.id or 0)}
    assert statuses == {"big": MediaStatus.TOO_LARGE, "broken": MediaStatus.FAILED}
    sent = texts(await steps.outbox(user))
    assert any("너무 커서" in text and "20MB" in text for text in sent)
    assert any("내려받지 못했습니다" in text for text in sent)


async def test_giant_text_is_kept_whole_and_echoed_short(steps: Steps) -> None:
    user = 3003
    await steps.send(user, kind="location", place=CITY_HALL)
    giant = "물이 새요 " * 800
    await steps.send(user, text=giant, now=START + timedelta(seconds=30))
    (report,) = await reports_of(steps, user)
    assert report.text == giant.strip()
    assert all(len(text) <= 4096 for text in texts(await steps.outbox(user)))


async def test_flood_is_merged_and_every_message_acknowledged_eventually(steps: Steps) -> None:
    user = 3004
    await steps.send(user, text="지하 주차장이 물에 잠기고 있어요")
    await steps.send(user, kind="location", place=CITY_HALL, now=START + timedelta(seconds=1))
    for i in range(30):
        await steps.send(
            user, text=f"추가 {i}", now=START + timedelta(seconds=2, milliseconds=100 * i)
        )
    (report,) = await reports_of(steps, user)
    lines = (report.text or "").splitlines()
    assert [line for line in lines if line.startswith("추가")] == [f"추가 {i}" for i in range(30)]
    assert report.message_count == 32
    before = len(await steps.outbox(user))
    assert before < 15  # throttled, not one answer per message
    async with steps.tx() as session:
        await file_stale_drafts(
            session=session, now=START + timedelta(minutes=1), config=steps.config
        )
    after = texts(await steps.outbox(user))
    assert len(after) == before + 1 and "건이" in after[-1]
    async with steps.tx() as session:
        messages = (
            await session.exec(
                select(ReportMessage).where(col(ReportMessage.report_id) == report.id)
            )
        ).all()
    assert len(messages) == 32


async def test_photo_alone_is_filed_by_the_timer_and_clustered(steps: Steps) -> None:
    user = 3005
    await steps.send(user, kind="photo", file=photo(9))
    (draft,) = await reports_of(steps, user)
    assert draft.status == "draft" and draft.asked_where_at is not None
    async with steps.tx() as session:
        assert (
            await file_stale_drafts(
                session=session, now=START + timedelta(seconds=30), config=steps.config
            )
            == 0
        )
    async with steps.tx() as session:
        await file_stale_drafts(
            session=session, now=START + timedelta(minutes=5), config=steps.config
        )
    (report,) = await reports_of(steps, user)
    assert report.status == "filed" and report.incident_id is not None
    assert any(
        report.reference in text and "✅" in text for text in texts(await steps.outbox(user))
    )


async def test_skip_files_the_report(steps: Steps) -> None:
    user = 3006
    await steps.send(user, kind="photo", file=photo(5))
    await steps.send(user, text="건너뛰기", now=START + timedelta(seconds=5))
    (report,) = await reports_of(steps, user)
    assert report.where_skipped and report.text is None
    assert report.status == "draft"  # the description is still missing: ask what
    await steps.send(user, text="Skip", now=START + timedelta(seconds=9))
    (report,) = await reports_of(steps, user)
    assert report.status == "filed" and report.what_skipped and report.incident_id is not None
    rows = await steps.outbox(user)
    assert any(row.get("reply_keyboard") == {"remove": True} for row in rows)


async def test_unsure_classification_offers_three_choices(steps: Steps) -> None:
    user = 3007
    await steps.send(user, kind="location", place=CITY_HALL)
    words = "뭔가 이상해요 냄새가"
    guess = classify_report(words)
    assert guess.candidates and not guess.confident
    await steps.send(user, text=words, now=START + timedelta(seconds=4))
    rows = await steps.outbox(user)
    choice = next(
        row
        for row in rows
        if row.get("buttons") and row["buttons"][0][0]["data"].startswith("csc:")
    )
    datas = [r[0]["data"] for r in choice["buttons"]]
    assert datas == [f"csc:{choice_report(datas[0])}:{slug}" for slug in guess.candidates] + [
        f"csc:{choice_report(datas[0])}:other"
    ]


async def test_outside_the_service_area_is_accepted(steps: Steps) -> None:
    user = 3008
    await steps.send(user, text="산불이 났어요")
    await steps.send(user, kind="location", place=BUSAN, now=START + timedelta(seconds=5))
    (report,) = await reports_of(steps, user)
    assert report.status == "filed" and report.outside_service_area and report.district_code is None
    (incident,) = await incidents(steps)
    assert incident.outside_service_area


async def test_live_location_is_followed_until_it_stops(steps: Steps) -> None:
    user = 3009
    live = IncomingPlace(latitude=37.5663, longitude=126.9779, live_period=900)
    await steps.send(user, text="강물이 불어나고 있어요")
    result = await steps.send(user, kind="location", place=live, now=START + timedelta(seconds=5))
    (report,) = await reports_of(steps, user)
    live_id = report.live_message_id
    assert live_id is not None and report.live_until is not None
    moved = IncomingPlace(latitude=37.5700, longitude=126.9800, live_period=900)
    async with steps.tx() as session:
        updated = await update_live_location(
            session=session,
            user_id=user,
            message_id=live_id,
            place=moved,
            now=START + timedelta(minutes=2),
        )
    assert updated is not None and result.report_id == updated.id
    stopped = IncomingPlace(latitude=37.5710, longitude=126.9810)
    async with steps.tx() as session:
        await update_live_location(
            session=session,
            user_id=user,
            message_id=live_id,
            place=stopped,
            now=START + timedelta(minutes=3),
        )
    async with steps.tx() as session:
        late = await update_live_location(
            session=session,
            user_id=user,
            message_id=live_id,
            place=moved,
            now=START + timedelta(minutes=4),
        )
    assert late is None
    (report,) = await reports_of(steps, user)
    assert (report.latitude, report.longitude) == (37.5710, 126.9810)


async def live_moves(steps: Steps, report_id: int | None) -> list[ReportMessage]:
    async with steps.tx() as session:
        rows = await session.exec(
            select(ReportMessage).where(
                col(ReportMessage.report_id) == report_id, col(ReportMessage.kind) == "moved"
            )
        )
        return list(rows.all())


async def test_a_live_location_moves_its_incident_and_is_noted_for_staff_now_and_then(
    steps: Steps,
) -> None:
    user = 3019
    await steps.send(user, text="강물이 불어나고 있어요")
    live = IncomingPlace(latitude=37.5663, longitude=126.9779, live_period=900)
    await steps.send(user, kind="location", place=live, now=START + timedelta(seconds=5))
    (report,) = await reports_of(steps, user)
    assert report.live_message_id is not None and report.live_until is not None

    async def move(metres: float, seconds: float, **extra: object) -> Report | None:
        place = IncomingPlace(
            latitude=37.5663 + metres / 111_195.0,
            longitude=126.9779,
            **extra,  # type: ignore[arg-type]
        )
        async with steps.tx() as session:
            return await update_live_location(
                session=session,
                user_id=user,
                message_id=report.live_message_id or 0,
                place=place,
                now=START + timedelta(seconds=seconds),
            )

    await move(100, 30, live_period=900)  # within minutes, same district: no note
    await move(150, 60, live_period=900)
    assert await live_moves(steps, report.id) == []
    (incident,) = await incidents(steps)
    assert incident.latitude == 37.5663 + 150 / 111_195.0  # this report alone located it
    await move(200, 5 + 200, live_period=900)  # minutes later: a note
    await move(1500, 5 + 210, live_period=900)  # into 종로구: a note at once
    assert len(await live_moves(steps, report.id)) == 2
    (incident,) = await incidents(steps)
    assert incident.district_name == "종로구" and incident.located_reports == 1
    # The edit that stops it comes after the live period: still kept, and noted.
    stopped = await move(1600, 5 + 900 + 60, live_period=900, live_stopped=True)
    assert stopped is not None and stopped.latitude == 37.5663 + 1600 / 111_195.0
    assert len(await live_moves(steps, report.id)) == 3
    assert await move(1700, 5 + 900 + 90, live_period=900) is None


async def start_live(steps: Steps, user: int) -> Report:
    """File a report with a live location at City Hall (중구) for 15 minutes, 5 s in."""
    await steps.send(user, text="강물이 불어나고 있어요")
    live = IncomingPlace(latitude=37.5663, longitude=126.9779, live_period=900)
    await steps.send(user, kind="location", place=live, now=START + timedelta(seconds=5))
    (report,) = await reports_of(steps, user)
    return report


async def walk(
    steps: Steps, user: int, report: Report, metres: float, seconds: float, **extra: object
) -> Report | None:
    """Move the report's live location ``metres`` north of City Hall, ``seconds`` in."""
    place = IncomingPlace(
        latitude=37.5663 + metres / 111_195.0,
        longitude=126.9779,
        **{"live_period": 900, **extra},  # type: ignore[arg-type]
    )
    async with steps.tx() as session:
        return await update_live_location(
            session=session,
            user_id=user,
            message_id=report.live_message_id or 0,
            place=place,
            now=START + timedelta(seconds=seconds),
        )


async def sweep_live(steps: Steps, seconds: float) -> int:
    """Run the sweep's live-location step ``seconds`` in."""
    async with steps.tx() as session:
        return await note_unshown_live_locations(
            session=session, now=START + timedelta(seconds=seconds)
        )


async def test_a_live_location_that_runs_out_shows_staff_its_last_place(steps: Steps) -> None:
    """A move within minutes of the last note was never shown when the period just ran out."""
    user = 3031
    report = await start_live(steps, user)
    await walk(steps, user, report, 100, 60)  # within minutes of the location: held back
    assert await live_moves(steps, report.id) == []
    assert await sweep_live(steps, 90) == 0  # not due yet
    assert await live_moves(steps, report.id) == []
    # The period runs out (5 s + 900 s) with no final edit: the sweep shows the last place.
    assert await sweep_live(steps, 906) == 1
    (note,) = await live_moves(steps, report.id)
    (report,) = await reports_of(steps, user)
    assert report.live_until is not None and note.created_at >= report.live_until
    assert report.live_unshown_since is None and report.latitude == 37.5663 + 100 / 111_195.0
    assert await sweep_live(steps, 930) == 0  # once


async def test_a_held_back_live_place_is_shown_once_due_and_a_shown_one_never_again(
    steps: Steps,
) -> None:
    user = 3032
    report = await start_live(steps, user)
    await walk(steps, user, report, 100, 60)  # held back: the location was shown 55 s ago
    assert await sweep_live(steps, 120) == 0
    assert await sweep_live(steps, 5 + 181) == 1  # three minutes after staff last saw it
    assert len(await live_moves(steps, report.id)) == 1
    await walk(steps, user, report, 100, 200)  # the same place again: nothing to show
    assert await sweep_live(steps, 906) == 0
    assert len(await live_moves(steps, report.id)) == 1


async def test_crossing_a_district_border_back_and_forth_is_noted_once_a_minute(
    steps: Steps,
) -> None:
    """Every crossing of a border was noted at once: a citizen on the border flooded the topic."""
    user = 3033
    report = await start_live(steps, user)
    jongno, junggu = 1500, 100
    await walk(steps, user, report, jongno, 10)  # into 종로구: noted at once
    assert len(await live_moves(steps, report.id)) == 1
    await walk(steps, user, report, junggu, 20)  # back within the minute: held back
    await walk(steps, user, report, jongno, 30)  # back where staff last saw it: nothing
    await walk(steps, user, report, junggu, 40)
    assert len(await live_moves(steps, report.id)) == 1
    (shown,) = await reports_of(steps, user)
    assert shown.district_name == "중구" and shown.live_shown_district != shown.district_code
    await walk(steps, user, report, junggu + 10, 75)  # a minute after the crossing note
    assert len(await live_moves(steps, report.id)) == 2
    await walk(steps, user, report, jongno, 80)  # across again within the minute: held back
    assert len(await live_moves(steps, report.id)) == 2
    # Stopping is always noted, wherever and however soon.
    await walk(steps, user, report, jongno, 85, live_stopped=True)
    assert len(await live_moves(steps, report.id)) == 3


async def test_followup_window_then_a_new_report(steps: Steps) -> None:
    user = 3010
    await steps.send(user, text="가로수가 쓰러졌어요")
    await steps.send(user, text="도로를 막고 있어요", now=START + timedelta(minutes=10))
    await steps.send(user, text="또 다른 나무가 쓰러졌어요", now=START + timedelta(hours=2))
    first, second = await reports_of(steps, user)
    assert first.text == "가로수가 쓰러졌어요\n도로를 막고 있어요"
    assert second.text == "또 다른 나무가 쓰러졌어요"
    assert first.reference != second.reference


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str, bool]] = []

    async def report_changed(self, *, session: object, report: Report, result: object) -> None:
        self.seen.append((report.reference, report.status, report.incident_id is not None))


async def test_listeners_hear_every_message_and_timer_filing(steps: Steps) -> None:
    recorder = Recorder()
    user = 3011
    message = IncomingMessage(
        user_id=user, chat_id=user, message_id=1, lang="ko", kind="photo", file=photo(3)
    )
    async with steps.tx() as session:
        await receive_message(
            session=session, message=message, config=steps.config, now=START, listeners=[recorder]
        )
    async with steps.tx() as session:
        await file_stale_drafts(
            session=session,
            now=START + timedelta(minutes=5),
            config=steps.config,
            listeners=[recorder],
        )
    (report,) = await reports_of(steps, user)
    assert recorder.seen == [(report.reference, "draft", False), (report.reference, "filed", True)]


async def test_urgent_words_after_clustering_raise_the_incident(steps: Steps) -> None:
    user = 3012
    await steps.send(user, text="간판이 흔들려요 떨어질 것 같아요")
    await steps.send(user, kind="location", place=CITY_HALL, now=START + timedelta(seconds=5))
    (incident,) = await incidents(steps)
    assert incident.priority != "P1"
    await steps.send(user, text="사람이 깔려서 의식이 없어요", now=START + timedelta(seconds=20))
    (incident,) = await incidents(steps)
    assert incident.priority == "P1" and incident.urgent
    assert any("119" in text for text in texts(await steps.outbox(user))[-2:])


async def test_keyboard_is_removed_once_after_the_answer(steps: Steps) -> None:
    user = 3013
    await steps.send(user, kind="location", place=CITY_HALL)
    for i in range(6):
        await steps.send(user, text=f"물이 차올라요 {i}", now=START + timedelta(seconds=2 + i))
    rows = await steps.outbox(user)
    removals = [row for row in rows if row.get("reply_keyboard") == {"remove": True}]
    assert len(removals) == 1
    assert sum("알겠습니다" in row.get("text", "") for row in rows) <= 1


async def test_the_manual_comes_first_and_the_confirmation_asks_where(steps: Steps) -> None:
    user = 1099
    await steps.send(user, text="지하차도에 물이 차올라 차가 잠기고 있어요")
    rows = await steps.outbox(user)
    manual, confirmation = rows[-2:]
    assert manual["buttons"][0][0]["data"].startswith("cmp:inundation:1:")
    assert manual["priority"] == Priority.GUIDANCE
    assert "접수되었습니다" in confirmation["text"] and "어디인가요" in confirmation["text"]
    assert confirmation["reply_keyboard"]["keyboard"][0][0]["request_location"] is True
    assert "buttons" not in confirmation
    assert confirmation["priority"] == Priority.CITIZEN_REPLY
    assert sum("어디인가요" in text for text in texts(rows)) == 1


async def test_a_new_citizen_is_told_about_retention_once(steps: Steps) -> None:
    """With the confirmation when the first message files the report, else on its own."""
    filer = 4001
    await steps.send(filer, text="아파트 3층에 불이 났어요, 연기가 많이 나요")
    await steps.send(filer, text="연기가 더 많아졌어요", now=START + timedelta(seconds=5))
    sent = texts(await steps.outbox(filer))
    (notice,) = [text for text in sent if "보관합니다" in text]
    assert notice.startswith("✅") and "30일" in notice  # the confirmation carries it
    assert not any(text.startswith("🔒") for text in sent)

    locator = 4002  # a location alone files nothing yet: the bot asks what happened
    await steps.send(locator, kind="location", place=CITY_HALL)
    (report,) = await reports_of(steps, locator)
    assert report.status == "draft"
    sent = texts(await steps.outbox(locator))
    (notice,) = [text for text in sent if "보관합니다" in text]
    assert notice.startswith("🔒")
    assert not any(text.startswith("✅") for text in sent)


def _report(text: str, *, scenario: str | None = None, confirmed: bool = False) -> Report:
    guess = classify_report(text)
    return Report(
        text=text,
        scenario=scenario or (guess.candidates[0] if guess.candidates else None),
        scenario_confirmed=confirmed,
    )


def test_only_sure_words_of_an_unrelated_scenario_tell_of_another_incident() -> None:
    flood = _report("집 앞 도로가 침수됐어요")
    assert tells_another_incident(flood, "옆 건물에 불이 났어요")
    for unclear in ("물이 더 차올라요", "help", "still here", "불이 번지고 있어요"):
        assert not tells_another_incident(flood, unclear), unclear
    assert not tells_another_incident(flood, "The street is flooded")  # the same scenario
    assert scenarios.related("inundation", "blackout") and scenarios.related(
        "blackout", "inundation"
    )
    assert not tells_another_incident(flood, "Power is out on the whole street")  # related
    unsure = _report("가로등이 꺼져 있어요")  # a guess, not sure: later words join it
    assert unsure.scenario is not None and not tells_another_incident(unsure, "연기가 나요")
    picked = _report("뭔가 이상해요 냄새가", scenario="chemical", confirmed=True)
    assert tells_another_incident(picked, "연기가 나요")  # the citizen's pick is sure
    assert not tells_another_incident(_report("뭔가 이상해요", scenario=None), "연기가 나요")


def test_words_that_continue_the_situation_keep_joining_the_open_report() -> None:
    """ "still trapped, smoke now" after a lift rescue was filed as a second, fire report."""
    flood = _report("집 앞 도로가 침수됐어요")
    for worse in (
        "이제 옆 건물에서 연기가 나요",
        "불길이 점점 커지고 있어요",
        "smoke now, it's worse",
    ):
        assert scenarios.classify_report(worse).confident, worse  # surely another scenario
        assert not tells_another_incident(flood, worse), worse
    assert tells_another_incident(flood, "There is a fire next door")  # no continuation mark


def test_a_trapped_citizens_later_words_are_about_where_they_are() -> None:
    lift = _report("people are trapped in the lift")
    assert lift.scenario == "elevator"
    for later in ("still trapped, smoke now", "there is smoke", "연기가 나요"):
        assert not tells_another_incident(lift, later), later
    broken = _report("the lift is broken, nobody inside")  # nobody held there
    assert broken.scenario == "elevator" and scenarios.classify_report(broken.text or "").confident
    assert tells_another_incident(broken, "there is smoke")


def test_closing_words_never_open_a_report() -> None:
    fire = _report("아파트에 불이 났어요")
    for closing in ("thanks", "thank you", "ok", "감사합니다", "네 알겠습니다"):
        assert not tells_another_incident(fire, closing), closing


async def test_another_incident_opens_a_new_report_named_in_the_confirmation(
    steps: Steps,
) -> None:
    user = 3101
    await steps.send(user, text="The street is flooded", lang="en")
    await steps.send(user, kind="location", place=CITY_HALL, lang="en")
    before = len(await steps.outbox(user))

    later = START + timedelta(minutes=10)
    await steps.send(user, text="There is a fire next door", lang="en", now=later)

    flood, fire = await reports_of(steps, user)
    assert flood.text == "The street is flooded" and fire.text == "There is a fire next door"
    assert fire.status == "filed" and fire.scenario == "fire" and fire.urgent
    filed = [t for t in texts((await steps.outbox(user))[before:]) if "new report" in t]
    assert len(filed) == 1 and fire.reference in filed[0] and flood.reference in filed[0]
