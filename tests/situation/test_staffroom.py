"""Incidents open a topic with a pinned card, photos and a map pin; citizen messages follow."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from sandbox.html_entities import format_text
from situation.audit import Actor
from situation.edits import receive_edit
from situation.intake import IncomingFile, IncomingMessage, IncomingPlace, receive_message
from situation.limits import CUT, TEXT_LIMIT, utf16_len
from situation.roles import seed_demo_staff
from situation.staffroom import (
    DIGEST_MESSAGE_LIMIT,
    DIGEST_TEXT_LIMIT,
    EDIT_BEFORE_ROOM,
    RoomConfig,
    RoomSync,
    StaffRoom,
    post,
    recover_topics,
    sync_topics,
)
from storage.models.audit import IncidentEvent
from storage.models.escalations import IncidentDeadline
from storage.models.incidents import Incident
from storage.models.outbox import OutboxMessage
from storage.models.topics import IncidentTopic
from storage.outbox import mark_sent
from tests.outbox_leases import TEST_WORKER, lease
from tests.situation.conftest import START, Steps
from tests.storage.test_media_cache import statements

STAFF_CHAT = -1001234567890
ROOM = RoomConfig(chat_id=STAFF_CHAT)
CITY_HALL = IncomingPlace(latitude=37.5663, longitude=126.9779)
FAR = IncomingPlace(latitude=37.4979, longitude=127.0276)  # 강남역, another incident
STAFF = [(9001, "이서연", "admin"), (9002, "최도윤", "lead"), (9003, "정하은", "staff")]
HAEUN = Actor(user_id=9003, name="정하은")
DOYUN = Actor(user_id=9002, name="최도윤")


@dataclass
class Room:
    """Drive the citizen intake with the situation room listening, and read what it queued."""

    steps: Steps
    room: RoomConfig = ROOM
    seen: int = 0
    listeners: Sequence[Any] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.listeners = (StaffRoom(self.room),)

    async def seed(self) -> None:
        async with self.steps.tx() as session:
            await seed_demo_staff(session=session, world_staff=STAFF, now=START)

    async def citizen(
        self,
        user_id: int,
        *,
        text: str | None = None,
        place: IncomingPlace | None = None,
        photo: str | None = None,
        lang: str = "ko",
        now: datetime = START,
    ) -> None:
        kind = "photo" if photo else ("location" if place and not text else "text")
        message = IncomingMessage(
            user_id=user_id,
            chat_id=user_id,
            message_id=self.steps.next_id(),
            lang=lang,
            kind=kind,
            text=text,
            place=place if kind == "location" else None,
            file=IncomingFile(kind="photo", file_id=photo, data=b"\xff\xd8 jpg " + photo.encode())
            if photo
            else None,
        )
        async with self.steps.tx() as session:
            await receive_message(
                session=session,
                message=message,
                config=self.steps.config,
                now=now,
                listeners=self.listeners,
            )

    async def report(
        self, user_id: int, text: str, place: IncomingPlace = CITY_HALL, **kw: Any
    ) -> Incident:
        await self.citizen(user_id, text=text, **kw)
        await self.citizen(user_id, place=place, **{k: v for k, v in kw.items() if k == "now"})
        return (await self.incidents())[-1]

    async def incidents(self) -> list[Incident]:
        async with self.steps.tx() as session:
            return list((await session.exec(select(Incident).order_by(col(Incident.id)))).all())

    async def incident(self, incident_id: int) -> Incident:
        async with self.steps.tx() as session:
            found = await session.get(Incident, incident_id)
            assert found is not None
            return found

    async def staff_rows(self) -> list[OutboxMessage]:
        """Rows queued for the staff chat since the last call."""
        async with self.steps.tx() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.chat_id) == STAFF_CHAT)
                    .where(col(OutboxMessage.id) > self.seen)
                    .order_by(col(OutboxMessage.id))
                )
            ).all()
            everything = (await session.exec(select(OutboxMessage))).all()
        if everything:
            self.seen = max(row.id or 0 for row in everything)
        return list(rows)

    async def rows_to(self, chat_id: int) -> list[OutboxMessage]:
        async with self.steps.tx() as session:
            return list(
                (
                    await session.exec(
                        select(OutboxMessage)
                        .where(col(OutboxMessage.chat_id) == chat_id)
                        .order_by(col(OutboxMessage.id))
                    )
                ).all()
            )

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        async with self.steps.tx() as session:
            return list(
                (
                    await session.exec(
                        select(IncidentEvent)
                        .where(col(IncidentEvent.incident_id) == incident_id)
                        .order_by(col(IncidentEvent.id))
                    )
                ).all()
            )


def texts(rows: Sequence[OutboxMessage]) -> list[str]:
    return [str(row.payload.get("text", "")) for row in rows]


async def test_a_new_incident_opens_a_topic_with_the_pinned_card_photos_and_pin(
    steps: Steps,
) -> None:
    room = Room(steps)
    await room.seed()
    await room.citizen(501, text="아파트 3층에서 불이 났어요 연기가 많아요")
    await room.citizen(501, photo="photo-1")
    assert await room.staff_rows() == []  # no incident before the location is known
    incident = await room.report(502, "불이 났어요")  # another citizen nearby joins later
    first = (await room.incidents())[0]
    assert incident.id == first.id
    await room.citizen(501, place=CITY_HALL)

    incidents = await room.incidents()
    rows = await room.staff_rows()
    kinds = [row.kind for row in rows]
    assert kinds[:3] == ["create_topic", "text", "pin"]
    topic_row, card, pin = rows[:3]
    assert topic_row.correlation == f"incident:{first.id}:topic"
    assert topic_row.payload["name"].startswith("🔴 🔥 중구 I-")
    assert (
        card.thread_ref == topic_row.correlation and card.correlation == f"incident:{first.id}:card"
    )
    assert pin.target_ref == card.correlation
    card_text = card.payload["text"]
    assert "화재" in card_text and "P1" in card_text and "중구" in card_text
    assert "불이 났어요" in card_text and "접수 기한" in card_text
    assert [b["data"] for b in card.payload["buttons"][0]] == [f"st:take:{first.id}:"]
    assert len(incidents) == 1 and incidents[0].report_count == 2

    async with steps.tx() as session:
        topic = await session.get(IncidentTopic, first.id)
        deadline = await session.get(IncidentDeadline, first.id)
    assert topic is not None and topic.chat_id == STAFF_CHAT
    assert deadline is not None and deadline.due_at == first.opened_at + timedelta(minutes=2)
    assert [event.action for event in await room.events(first.id or 0)][:1] == ["opened"]


async def test_a_joining_report_and_later_citizen_messages_reach_the_topic(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "집 앞 도로가 물에 잠겼어요")
    opened = await room.staff_rows()
    assert any(row.kind == "location" for row in opened)

    await room.report(502, "도로 침수 심해요", now=START + timedelta(minutes=1))
    joined = await room.staff_rows()
    assert any("새 신고가 이 건에 연결" in text for text in texts(joined))
    assert any(
        row.kind == "edit_text" and row.target_ref == f"incident:{incident.id}:card"
        for row in joined
    )

    await room.citizen(501, text="물이 무릎까지 찼어요", now=START + timedelta(minutes=2))
    await room.citizen(501, photo="photo-9", now=START + timedelta(minutes=2))
    relayed = await room.staff_rows()
    said = [row for row in relayed if row.correlation and row.correlation.startswith("relay:in:")]
    assert [row.kind for row in said] == ["text", "copy"]
    assert "물이 무릎까지 찼어요" in said[0].payload["text"]
    assert (
        said[1].payload["from_chat_id"] == 501
        and said[1].thread_ref == f"incident:{incident.id}:topic"
    )


async def test_sync_topics_opens_what_the_hook_missed_and_is_idempotent(steps: Steps) -> None:
    room = Room(steps)
    room.listeners = ()
    await room.report(501, "불이 났어요")
    assert await room.staff_rows() == []
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=START)).posted == 1
    assert [row.kind for row in await room.staff_rows()][:3] == ["create_topic", "text", "pin"]
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=START)).posted == 0
    assert await room.staff_rows() == []


async def test_without_a_staff_chat_nothing_is_queued(steps: Steps) -> None:
    room = Room(steps, room=RoomConfig(chat_id=None))
    await room.report(501, "불이 났어요")
    assert await room.staff_rows() == []


async def test_a_deferred_listener_leaves_the_room_to_a_pass_after_commit(steps: Steps) -> None:
    wakes: list[str] = []
    room = Room(steps)
    room.listeners = (StaffRoom(ROOM, wake=lambda: wakes.append("wake")),)
    await room.report(501, "불이 났어요")
    assert wakes == ["wake", "wake"]  # once per committed citizen transaction
    assert await room.staff_rows() == []
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=START)).posted == 1
    assert [row.kind for row in await room.staff_rows()][:3] == ["create_topic", "text", "pin"]


async def test_a_rolled_back_citizen_transaction_does_not_wake_the_projector(
    steps: Steps,
) -> None:
    wakes: list[str] = []
    listener = StaffRoom(ROOM, wake=lambda: wakes.append("wake"))
    message = IncomingMessage(
        user_id=501, chat_id=501, message_id=1, lang="ko", kind="text", text="불이 났어요"
    )
    async with steps.session_factory() as session:
        await receive_message(
            session=session, message=message, config=steps.config, now=START, listeners=(listener,)
        )
        await session.rollback()
    assert wakes == []


async def test_reports_joining_in_one_pass_become_one_digest_and_one_card_edit(
    steps: Steps,
) -> None:
    room = Room(steps)
    incident = await room.report(501, "집 앞 도로가 물에 잠겼어요")
    await room.staff_rows()
    room.listeners = ()  # the next reports wait for a pass, as under a surge
    later = START + timedelta(minutes=1)
    for user in range(502, 507):
        await room.report(user, f"도로 침수 심해요 {user}", now=later)
    await room.citizen(503, photo="photo-503", now=later)
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=later)).posted == 5
    rows = await room.staff_rows()
    digests = [text for text in texts(rows) if "새 신고 5건이 이 건에 연결" in text]
    assert len(digests) == 1
    assert all(f"도로 침수 심해요 {user}" in digests[0] for user in range(502, 507))
    reports = digests[0].split("\n")[1:]  # one report to a line, its words indented below
    assert [line[:2] for line in reports] == ["• ", "  "] * 5
    assert sum(1 for row in rows if row.kind == "photo") == 1
    assert not any(row.kind == "location" for row in rows)  # places are in the digest's lines
    edits = [row for row in rows if row.kind == "edit_text"]
    assert [row.target_ref for row in edits] == [f"incident:{incident.id}:card"]
    joined = [e for e in await room.events(incident.id or 0) if e.action == "report_joined"]
    assert len(joined) == 5
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=later)).posted == 0


async def test_a_pass_reads_its_incidents_and_topics_with_one_query_each(
    steps: Steps, engine: AsyncEngine
) -> None:
    """Reports joining three incidents: one query for the incidents, one for their topics."""
    room = Room(steps)
    opened = [
        await room.report(511, "집 앞 도로가 물에 잠겼어요"),
        await room.report(512, "도로가 물에 잠겼어요", place=FAR),
        await room.report(513, "불이 났어요 연기가 나요"),
    ]
    assert len({incident.id for incident in opened}) == 3
    room.listeners = ()
    later = START + timedelta(minutes=1)
    await room.report(521, "도로 침수 심해요", now=later)
    await room.report(522, "도로 침수 심해요", place=FAR, now=later)
    await room.report(523, "불이 번지고 있어요", now=later)
    async with steps.tx() as session:
        with statements(engine) as seen:
            assert (await sync_topics(session=session, room=ROOM, now=later)).posted == 3
    reads = [" ".join(statement.split()) for statement in seen if statement.startswith("SELECT")]
    assert sum(1 for s in reads if re.search(r"\bFROM incident\b(?!_)", s)) == 1
    assert sum(1 for s in reads if "FROM incident_topic" in s) == 1
    edits = [row for row in await room.staff_rows() if row.kind == "edit_text"]
    assert sorted(row.target_ref or "" for row in edits) == sorted(
        f"incident:{incident.id}:card" for incident in opened
    )


async def test_a_full_staff_queue_holds_new_reports_for_one_digest_later(steps: Steps) -> None:
    limited = RoomConfig(chat_id=STAFF_CHAT, queue_limit=4)
    room = Room(steps, room=limited)
    room.listeners = ()
    incident = await room.report(501, "집 앞 도로가 물에 잠겼어요")
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=limited, now=START)).posted == 1
    opened = await room.staff_rows()
    assert [row.kind for row in opened] == ["create_topic", "text", "pin", "location"]  # full

    later = START + timedelta(minutes=1)
    for user in range(502, 505):
        await room.report(user, f"도로 침수 심해요 {user}", now=later)
        async with steps.tx() as session:
            assert await sync_topics(session=session, room=limited, now=later) == RoomSync(
                posted=0, deferred=True
            )
    assert await room.staff_rows() == []  # nothing posted, nothing lost: the reports wait

    async with steps.tx() as session:  # the sender delivers what the room had queued
        for row in opened:
            await lease(session, row.id or 0)
            await mark_sent(
                session=session, message_id=row.id or 0, worker_id=TEST_WORKER, now=later
            )
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=limited, now=later)).posted == 3
    rows = await room.staff_rows()
    (digest,) = [text for text in texts(rows) if "새 신고 3건이 이 건에 연결" in text]
    assert all(f"도로 침수 심해요 {user}" in digest for user in range(502, 505))
    assert [row.target_ref for row in rows if row.kind == "edit_text"] == [
        f"incident:{incident.id}:card"
    ]


async def test_reports_that_joined_before_the_topic_opened_are_listed_in_it(steps: Steps) -> None:
    room = Room(steps)
    room.listeners = ()  # a surge: several reports cluster before the first pass
    for user in range(501, 505):
        await room.report(user, f"도로 침수 심해요 {user}")
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=START)).posted == 4
    rows = await room.staff_rows()
    assert [row.kind for row in rows][:4] == ["create_topic", "text", "pin", "location"]
    assert "도로 침수 심해요 501" in rows[1].payload["text"]  # the card quotes the first
    (digest,) = [text for text in texts(rows) if "새 신고 3건이 이 건에 연결" in text]
    assert all(f"도로 침수 심해요 {user}" in digest for user in range(502, 505))


async def test_a_long_follow_up_goes_out_in_parts_and_is_recovered_in_parts(
    steps: Steps,
) -> None:
    room = Room(steps)
    await room.report(501, "불이 났어요")
    await room.staff_rows()
    words = "3층 <b>연기</b> & 🔥 " * 300  # 4500 UTF-16 units
    await room.citizen(501, text=words.strip(), now=START + timedelta(minutes=1))
    said = await room.staff_rows()
    assert [row.kind for row in said] == ["text", "text"]
    first, second = (str(row.correlation) for row in said)
    assert second == f"{first}:p2" and first.startswith("relay:in:")
    shown = "".join(format_text(text, "HTML")[0].split(": ", 1)[1] for text in texts(said))
    assert "".join(shown.replace(CUT, "").split()) == "".join(words.split())

    # The topic was deleted by hand before either part was delivered.
    async with steps.tx() as session:
        for row in said:
            row.status = "failed"
            row.last_error = "thread_not_found: message thread not found"
            session.add(row)
    async with steps.tx() as session:
        assert await recover_topics(session=session, room=ROOM, now=START) == 2
    resent = [row for row in await room.staff_rows() if row.kind == "text"]
    message_id = first.split(":")[2]
    assert [row.correlation for row in resent[-2:]] == [
        f"relay:in:{message_id}:2",
        f"relay:in:{message_id}:2:p2",
    ]
    assert [row.payload for row in resent[-2:]] == [row.payload for row in said]


async def test_a_first_report_longer_than_the_card_quotes_follows_the_card_in_full(
    steps: Steps,
) -> None:
    room = Room(steps)
    words = "아파트 3층 복도에서 불이 났어요 " * 60  # 1140 characters; the card quotes 700
    await room.report(501, words.strip())
    rows = await room.staff_rows()
    assert [row.kind for row in rows][:3] == ["create_topic", "text", "pin"]
    card = texts(rows)[1]
    assert words[:100] in card and words.strip() not in card
    assert any(words.strip() in text for text in texts(rows)[2:])


async def edited_by(room: Room, user_id: int, message_id: int, text: str) -> None:
    """The citizen edits message ``message_id`` to ``text``, the situation room listening."""
    message = IncomingMessage(
        user_id=user_id, chat_id=user_id, message_id=message_id, lang="ko", kind="text", text=text
    )
    async with room.steps.tx() as session:
        await receive_edit(
            session=session,
            message=message,
            config=room.steps.config,
            now=START + timedelta(minutes=2),
            listeners=room.listeners,
        )


async def test_an_edit_quotes_the_old_words_in_the_room_the_new_ones_leave(steps: Steps) -> None:
    room = Room(steps)
    await room.report(501, "불이 났어요")
    old, new = "3층 <b>연기</b> & 🔥 " * 300, "계단 &amp; 🚒 " * 400  # 4,500 and 4,400 units
    await room.citizen(501, text="2층 연기", now=START + timedelta(minutes=1))
    await room.staff_rows()
    short = steps.next_id() - 1  # the id of the message just sent
    await edited_by(room, 501, short, "2층 연기 심해요")
    (whole,) = texts([row for row in await room.staff_rows() if row.kind == "text"])
    assert whole.endswith("이전: 2층 연기\n지금: 2층 연기 심해요")

    await room.citizen(501, text=old.strip(), now=START + timedelta(minutes=1))
    long = steps.next_id() - 1
    await room.staff_rows()
    await edited_by(room, 501, long, new.strip())
    rows = [row for row in await room.staff_rows() if row.kind == "text"]
    first, second = (format_text(text, "HTML")[0] for text in texts(rows))
    assert all(utf16_len(text) <= TEXT_LIMIT for text in (first, second))
    _, before, now = first.split("\n")
    assert before.startswith("이전: 3층 <b>연기</b> & 🔥") and before.endswith(CUT)
    assert utf16_len(before.removeprefix("이전: ")) <= EDIT_BEFORE_ROOM
    said = now.removeprefix("지금: ") + second.split(": ", 1)[1]
    assert "".join(said.replace(CUT, "").split()) == "".join(new.split())
    assert rows[1].correlation == f"{rows[0].correlation}:p2"


async def test_a_surge_digest_quotes_each_report_in_160_units_cut_before_escaping(
    steps: Steps,
) -> None:
    room = Room(steps)
    await room.report(501, "집 앞 도로가 물에 잠겼어요")
    await room.staff_rows()
    room.listeners = ()  # a surge: the next reports wait for one pass
    family = "👨\u200d👩\u200d👧"  # one emoji of eight units
    later = START + timedelta(minutes=1)
    for user in range(502, 532):
        await room.report(user, f"도로 침수 {user} & <긴급> " + family * 60, now=later)
    async with steps.tx() as session:
        assert (await sync_topics(session=session, room=ROOM, now=later)).posted == 30

    digests = [t for t in texts(await room.staff_rows()) if "이 건에 연결" in t]
    assert len(digests) > 1
    shown = [format_text(text, "HTML")[0] for text in digests]
    assert all(utf16_len(text) <= DIGEST_MESSAGE_LIMIT for text in shown)
    quotes = [line.strip() for text in shown for line in text.split("\n") if "도로 침수" in line]
    assert len(quotes) == 30
    for quote in quotes:
        assert quote.startswith("도로 침수 5") and " & <긴급> " in quote and quote.endswith(CUT)
        assert utf16_len(quote) <= DIGEST_TEXT_LIMIT
        assert quote.removesuffix(CUT).endswith(family)  # never cut inside an emoji


async def test_a_long_staff_room_message_is_posted_in_valid_parts(steps: Steps) -> None:
    listing = "<b>근무자</b>\n" + "\n".join(
        f'• <a href="tg://user?id={n}">근무자 {n} 🧑\u200d🚒</a> · <i>A조</i>' for n in range(300)
    )
    buttons = [[{"text": "새로고침", "data": "st:duty:0"}]]
    async with steps.tx() as session:
        await post(session=session, room=ROOM, text=listing, thread_id=5, buttons=buttons)
    rows = await Room(steps).staff_rows()
    assert len(rows) > 1 and {row.thread_id for row in rows} == {5}
    assert [("buttons" in row.payload) for row in rows] == [False] * (len(rows) - 1) + [True]
    shown = [format_text(text, "HTML")[0] for text in texts(rows)]
    assert all(utf16_len(text) <= TEXT_LIMIT for text in shown)
    assert "\n".join(shown) == format_text(listing, "HTML")[0]


async def test_reports_joining_without_urgent_words_read_no_deadline(
    steps: Steps, engine: AsyncEngine
) -> None:
    """Only a join whose urgent words raised the incident can put its deadline behind: the
    other joins (nearly all of a surge) do not look the deadline up."""
    room = Room(steps)
    opened = [
        await room.report(531, "집 앞 도로가 물에 잠겼어요"),
        await room.report(532, "도로가 물에 잠겼어요", place=FAR),
    ]
    room.listeners = ()
    later = START + timedelta(minutes=1)
    await room.report(541, "도로 침수 심해요", now=later)
    await room.report(542, "도로 침수 심해요", place=FAR, now=later)
    async with steps.tx() as session:
        with statements(engine) as seen:
            assert (await sync_topics(session=session, room=ROOM, now=later)).posted == 2
    reads = [" ".join(statement.split()) for statement in seen if statement.startswith("SELECT")]
    # (the card's facts read the deadline's state in a subquery of their one statement)
    assert [s for s in reads if s.startswith("SELECT incident_deadline.")] == []
    assert len({incident.id for incident in opened}) == 2
