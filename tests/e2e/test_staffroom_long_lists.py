"""End to end: the staff room's lists (escalation mentions, the digest of unacknowledged
incidents, the shift hand-over, /stats) arrive whole however long they grow and however long
and emoji-laden the names in them: in as many messages as it takes, each valid HTML within
Telegram's limit as Telegram counts it (the sandbox parses and counts like Telegram)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.middlewares.roles import build_room
from bot.scheduler import sweep_once
from situation.limits import CUT, NAME_ROOM, TEXT_LIMIT, clip, utf16_len
from situation.roles import register
from situation.roster import Roster
from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report, ReportStatus
from storage.staff import list_staff
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    failed_rows,
    report_fire,
    seed_staff,
    sweep,
    text_of,
    topic_messages,
    topics,
)

# 98 UTF-16 units: cut to NAME_ROOM (64) wherever a staff-room message names the person
LONG_NAME = "🚒 소방관 " * 14


async def add_staff(app: E2E, count: int, *, team: str | None = None) -> list[int]:
    """Register ``count`` sandbox users with long emoji names as staff; return their ids."""
    ids = [int((await app.client.create_user(first_name="근무자"))["id"]) for _ in range(count)]
    async with app.runtime.session_factory() as session, session.begin():
        for number, user_id in enumerate(ids):
            await register(
                session=session,
                user_id=user_id,
                name=f"{number}번 {LONG_NAME}",
                role="staff",
                team=team,
                now=app.clock.now(),
            )
    return ids


async def all_staff_ids(app: E2E) -> set[int]:
    async with app.runtime.session_factory() as session:
        return {member.telegram_user_id for member in await list_staff(session=session)}


def mentioned(messages: list[dict[str, Any]]) -> list[int]:
    """The users the messages mention by link, in order."""
    return [
        int(entity["url"].split("=")[1])
        for message in messages
        for entity in message.get("entities", [])
        if entity["type"] == "text_link" and entity["url"].startswith("tg://user?id=")
    ]


def mention_lengths(messages: list[dict[str, Any]]) -> set[int]:
    return {
        entity["length"]
        for message in messages
        for entity in message.get("entities", [])
        if entity["type"] == "text_link"
    }


async def general(app: E2E) -> list[dict[str, Any]]:
    return await app.client.messages(app.world.staff_chat_id)


async def test_everyone_is_mentioned_in_escalations_and_the_digest_however_many(
    app: E2E,
) -> None:
    await seed_staff(app)
    await add_staff(app, 70)  # 70 mentions of 64 units: more than one message holds
    everyone = await all_staff_ids(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])

    app.clock.advance(timedelta(minutes=7))  # the last step is due: everyone, with a digest
    await sweep(app)

    assert await failed_rows(app) == []
    steps = [m for m in await topic_messages(app, thread) if "전원 확인 요청" in text_of(m)]
    assert len(steps) == 2
    assert sorted(mentioned(steps)) == sorted(everyone)
    assert max(mention_lengths(steps)) <= NAME_ROOM < utf16_len(LONG_NAME)
    digest = [m for m in await general(app) if "미접수 사건 현황" in text_of(m)]
    assert len(digest) == 2
    assert [text_of(m).split("\n", 1)[0] for m in digest] == [
        "🚨 미접수 사건 현황 (1/2)",
        "🚨 미접수 사건 현황 (2/2)",
    ]
    assert topic["name"].split()[-1] in text_of(digest[0])
    assert sorted(mentioned(digest)) == sorted(everyone)
    assert all(utf16_len(text_of(m)) <= TEXT_LIMIT for m in steps + digest)


async def test_a_handover_of_many_incidents_arrives_in_numbered_parts(app: E2E) -> None:
    await seed_staff(app)  # teams alternate: 이서연 A, 최도윤 B, 정하은 A, Daniel Cho B
    leaving = app.world.person("정하은")
    (staying,) = await add_staff(app, 1, team="B")
    now = app.clock.now()
    references = [f"I-20261122-{number:04d}" for number in range(120)]
    async with app.runtime.session_factory() as session, session.begin():
        for number, reference in enumerate(references):
            session.add(
                Incident(
                    reference=reference,
                    scenario="fire",
                    priority="P2",
                    status=IncidentStatus.IN_PROGRESS,
                    district_name="중구",
                    opened_at=now - timedelta(minutes=number),
                    acknowledged_at=now,
                    holder=str(leaving.id if number % 2 else staying),
                )
            )
    anchor = now - timedelta(hours=12, minutes=1)  # team A's shift ended a minute ago
    roster = Roster(teams=("A", "B"), shift_length=timedelta(hours=12), anchor=anchor)
    room = build_room(app.settings)
    room = type(room)(**{**room.__dict__, "roster": roster})
    assert (
        await sweep_once(session_factory=app.runtime.session_factory, room=room, now=now)
    ).handover
    await app.settle()

    assert await failed_rows(app) == []
    parts = [m for m in await general(app) if "근무 교대" in text_of(m)]
    count = len(parts)
    assert count >= 3
    assert [text_of(m).split("\n", 1)[0].rsplit(" ", 1)[-1] for m in parts] == [
        f"({number}/{count})" for number in range(1, count + 1)
    ]
    shown = "\n".join(text_of(m) for m in parts)
    assert all(reference in shown for reference in references)
    assert all("진행 중인 사건 120건" in text_of(m) for m in parts)
    assert [("담당을 해제" in text_of(m)) for m in parts] == [False] * (count - 1) + [True]
    assert staying in mentioned(parts[:1]) and "Daniel Cho" in text_of(parts[0])
    assert f"담당 {clip(f'0번 {LONG_NAME}', NAME_ROOM)} · 중구" in shown
    assert all(utf16_len(text_of(m)) <= TEXT_LIMIT for m in parts)


async def test_the_figures_of_a_long_period_arrive_whole(app: E2E) -> None:
    await seed_staff(app)
    now = app.clock.now()
    async with app.runtime.session_factory() as session, session.begin():
        for days in range(360):
            at = now - timedelta(days=days, hours=1)
            session.add(Report(status=ReportStatus.FILED, created_at=at, updated_at=at))
            session.add(
                Incident(
                    scenario="fire",
                    status=IncidentStatus.CLOSED,
                    opened_at=at,
                    acknowledged_at=at + timedelta(minutes=3),
                    closed_at=at + timedelta(minutes=40),
                )
            )
    haeun = app.world.person("정하은")
    before = len(await general(app))
    await app.client.send_text(haeun.id, app.world.staff_chat_id, "/stats 365")
    await app.settle()

    assert await failed_rows(app) == []
    answers = [m for m in (await general(app))[before:] if m["from"]["is_bot"]]
    assert len(answers) == 2 and text_of(answers[0]).startswith("📊")
    shown = " ".join(text_of(m).removeprefix(CUT).removesuffix(CUT) for m in answers)
    seoul = ZoneInfo("Asia/Seoul")
    days = {
        (now - timedelta(days=d, hours=1)).astimezone(seoul).strftime("%m-%d") for d in range(360)
    }
    # Reports and incidents by day, each "MM-DD 1" (not the header's "MM-DD HH:MM" time).
    assert all(len(re.findall(rf"{day} 1(?![\d:])", shown)) == 2 for day in days)
    assert "종결까지: 중앙값 40.0분" in text_of(answers[-1])
    assert all(utf16_len(text_of(m)) <= TEXT_LIMIT for m in answers)
