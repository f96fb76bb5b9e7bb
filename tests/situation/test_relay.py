"""Staff messages reach one citizen or all; internal notes and closed incidents reach nobody."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sandbox.html_entities import format_text
from situation import triage
from situation.limits import CUT, TEXT_LIMIT, utf16_len
from situation.relay import StaffMessage, is_internal, relay_staff_message
from situation.staffroom import RoomConfig
from storage.models.outbox import OutboxMessage
from tests.situation.conftest import START, Steps
from tests.situation.test_staffroom import HAEUN, ROOM, STAFF_CHAT, Room, texts

THREAD = 77


async def _published(steps: Steps, incident_id: int) -> None:
    """Pretend the sender created the topic (thread 77) and relayed message ids 1000+."""
    async with steps.tx() as session:
        from sqlmodel import col, select

        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.chat_id) == STAFF_CHAT)
            )
        ).all()
        for row in rows:
            row.status = "sent"
            row.result_message_id = 1000 + (row.id or 0)
            if row.kind == "create_topic":
                row.result_thread_id = THREAD
            session.add(row)


def message(text: str, **fields: object) -> StaffMessage:
    base = StaffMessage(
        chat_id=STAFF_CHAT, thread_id=THREAD, message_id=5000, kind="text", actor=HAEUN, text=text
    )
    return replace(base, **fields)  # type: ignore[arg-type]


async def test_reply_answers_one_citizen_and_plain_text_answers_all(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "불이 났어요")
    await room.report(502, "연기가 나요", now=START + timedelta(minutes=1))
    await room.citizen(502, text="2층이에요", now=START + timedelta(minutes=2))
    assert incident.id is not None
    await _published(steps, incident.id)
    relayed = [
        r for r in await room.rows_to(STAFF_CHAT) if (r.correlation or "").startswith("relay:in:")
    ]
    reply_to = 1000 + (relayed[-1].id or 0)

    async with steps.tx() as session:
        one = await relay_staff_message(
            session=session,
            room=ROOM,
            message=message(
                "2층 계단으로 내려오세요", reply_to_message_id=reply_to, message_id=5001
            ),
            now=START,
        )
        both = await relay_staff_message(
            session=session,
            room=ROOM,
            message=message("모두 대피하세요", message_id=5002),
            now=START,
        )
        to_all = await relay_staff_message(
            session=session,
            room=ROOM,
            message=message(
                "전체 공지", reply_to_message_id=reply_to, to_all=True, message_id=5003
            ),
            now=START,
        )
    assert (one.sent, both.sent, to_all.sent) == (1, 2, 2)
    first, second = texts(await room.rows_to(501)), texts(await room.rows_to(502))
    assert not any("2층 계단" in t for t in first) and any("2층 계단" in t for t in second)
    assert all(
        any(word in t for t in first) and any(word in t for t in second)
        for word in ("모두 대피", "전체 공지")
    )
    assert not any("정하은" in t for t in second)  # names hidden by default

    named = RoomConfig(chat_id=STAFF_CHAT, show_staff_names=True)
    async with steps.tx() as session:
        await relay_staff_message(
            session=session, room=named, message=message("곧 도착", message_id=5004), now=START
        )
    assert any("곧 도착" in t and "정하은" in t for t in texts(await room.rows_to(501)))


async def test_notes_and_closed_incidents_reach_nobody(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    await _published(steps, incident.id)
    before = len(await room.rows_to(501))
    assert is_internal("  ! 내부") and not is_internal("괜찮아요!")
    async with steps.tx() as session:
        note = await relay_staff_message(
            session=session, room=ROOM, message=message("! 내부 메모"), now=START
        )
        await triage.close(
            session=session,
            incident_id=incident.id,
            reason="resolved",
            actor=HAEUN,
            room=ROOM,
            now=START,
        )
        closed = await relay_staff_message(
            session=session, room=ROOM, message=message("늦은 답", message_id=5010), now=START
        )
    assert note.internal and note.sent == 0 and closed.problem == "closed"
    citizen = texts(await room.rows_to(501))[before:]
    assert not any("내부 메모" in t or "늦은 답" in t for t in citizen)
    assert any("종결된 사건이라" in t for t in texts(await room.rows_to(STAFF_CHAT)))
    assert [e.note for e in await room.events(incident.id) if e.action == "note"] == ["내부 메모"]


async def test_a_reply_to_any_part_of_a_long_message_answers_that_citizen(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "불이 났어요")
    await room.report(502, "연기가 나요", now=START + timedelta(minutes=1))
    await room.citizen(502, text="가" * 4096, now=START + timedelta(minutes=2))
    assert incident.id is not None
    await _published(steps, incident.id)
    relayed = [
        r for r in await room.rows_to(STAFF_CHAT) if (r.correlation or "").startswith("relay:in:")
    ]
    assert (relayed[-1].correlation or "").endswith(":p2")
    async with steps.tx() as session:
        answer = await relay_staff_message(
            session=session,
            room=ROOM,
            message=message("네, 확인했습니다", reply_to_message_id=1000 + (relayed[-1].id or 0)),
            now=START,
        )
    assert answer.sent == 1
    assert any("확인했습니다" in t for t in texts(await room.rows_to(502)))
    assert not any("확인했습니다" in t for t in texts(await room.rows_to(501)))


async def test_a_long_staff_answer_reaches_the_citizen_whole_in_parts(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    await _published(steps, incident.id)
    before = len(await room.rows_to(501))
    words = "<b>대피</b> & 🔥 " * 400  # 5200 UTF-16 units, escaping would triple them
    async with steps.tx() as session:
        await relay_staff_message(session=session, room=ROOM, message=message(words), now=START)
    rows = (await room.rows_to(501))[before:]
    assert [row.correlation for row in rows] == [
        f"relay:out:{STAFF_CHAT}:5000:501",
        f"relay:out:{STAFF_CHAT}:5000:501:p2",
    ]
    shown = [format_text(text, "HTML")[0] for text in texts(rows)]
    assert all(utf16_len(text) <= TEXT_LIMIT for text in shown)
    said = "".join(text.split(":\n", 1)[1].strip(CUT) for text in shown)
    assert "".join(said.split()) == "".join(words.split())
