"""Citizens edit messages they sent: the edit is kept with the report, re-read and answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from situation.audit import Actor
from situation.edits import receive_edit, replace_words
from situation.intake import (
    IncomingFile,
    IncomingMessage,
    IncomingPlace,
    IntakeResult,
    receive_message,
)
from situation.staffroom import RoomConfig, StaffRoom
from situation.triage import close
from storage.models.incidents import Incident
from storage.models.outbox import Priority
from storage.models.reports import Report, ReportMedia, ReportMessage
from tests.situation.conftest import START, Steps, texts

CITY_HALL = IncomingPlace(latitude=37.5663, longitude=126.9779)
STAFF_CHAT = -1001234567890
ROOM = RoomConfig(chat_id=STAFF_CHAT)
LATER = START + timedelta(minutes=3)


async def edit(
    steps: Steps, user_id: int, message_id: int, *, now: Any = LATER, **fields: Any
) -> IntakeResult:
    """Deliver an edit of message ``message_id``, with the situation room listening."""
    fields.setdefault("kind", "text")
    fields.setdefault("lang", "en")
    message = IncomingMessage(user_id=user_id, chat_id=user_id, message_id=message_id, **fields)
    async with steps.tx() as session:
        return await receive_edit(
            session=session,
            message=message,
            config=steps.config,
            now=now,
            listeners=(StaffRoom(ROOM),),
        )


async def say(steps: Steps, user_id: int, **fields: Any) -> int:
    """Deliver a new message with the situation room listening; return its message id."""
    fields.setdefault("kind", "text")
    fields.setdefault("lang", "en")
    message_id = steps.next_id()
    message = IncomingMessage(user_id=user_id, chat_id=user_id, message_id=message_id, **fields)
    async with steps.tx() as session:
        await receive_message(
            session=session,
            message=message,
            config=steps.config,
            now=START,
            listeners=(StaffRoom(ROOM),),
        )
    return message_id


async def reports_and_messages(steps: Steps) -> tuple[list[Report], list[ReportMessage]]:
    async with steps.tx() as session:
        reports = (await session.exec(select(Report).order_by(col(Report.id)))).all()
        messages = (await session.exec(select(ReportMessage).order_by(col(ReportMessage.id)))).all()
        return list(reports), list(messages)


async def rows_to(steps: Steps, chat_id: int, after: int = 0) -> list[dict[str, Any]]:
    return (await steps.outbox(chat_id))[after:]


def test_replace_words_puts_the_new_version_where_the_old_one_was() -> None:
    assert replace_words("a\nflood 3rd\nb", "flood 3rd", "flood 5th") == "a\nflood 5th\nb"
    assert replace_words("x\ny\nx", "x", "z") == "x\ny\nz"  # the last occurrence
    assert replace_words("a\nb\nc", "b\nc", "d") == "a\nd"
    assert replace_words("a", "not there", "b") == "a\nb"
    assert replace_words("a", "", "b") == "a\nb"  # a caption added to a photo
    assert replace_words(None, "", "b") == "b"
    assert replace_words("flood 3rd floor", "flood", "fire") == "flood 3rd floor\nfire"


async def test_an_edit_adds_to_the_report_and_prompts_119_when_it_turns_urgent(
    steps: Steps,
) -> None:
    user = 2001
    first_id = await say(steps, user, text="Flooding on the 3rd floor")
    await say(steps, user, kind="location", place=CITY_HALL)
    before = len(await steps.outbox(user))

    result = await edit(steps, user, first_id, text="Flooding on the 5th floor, people trapped")

    (report,), messages = await reports_and_messages(steps)
    assert report.text == "Flooding on the 5th floor, people trapped"
    assert report.urgent and report.scenario == "flood"
    edit_row, notice = messages[-2:]
    assert edit_row.kind == "edit" and edit_row.message_id == first_id
    assert notice.kind == "urgent" and notice.message_id is None  # the staff room is told
    assert edit_row.text == "Flooding on the 5th floor, people trapped"
    assert messages[0].text == "Flooding on the 3rd floor"  # the original is kept
    rows = await rows_to(steps, user, before)
    assert "119" in rows[0]["text"] and rows[0]["priority"] == Priority.GUIDANCE
    assert "correction was added" in rows[-1]["text"] and report.reference in rows[-1]["text"]
    assert result.report_id == report.id
    async with steps.tx() as session:
        (incident,) = (await session.exec(select(Incident))).all()
    assert incident.urgent and incident.priority == "P1"


async def test_the_staff_room_sees_what_changed_and_the_card_is_redrawn(steps: Steps) -> None:
    user = 2002
    first_id = await say(steps, user, text="Flooding on the 3rd floor")
    await say(steps, user, kind="location", place=CITY_HALL)
    staff_before = len(await steps.outbox(STAFF_CHAT))
    assert staff_before > 0  # the topic, its card, the map pin

    await edit(steps, user, first_id, text="Flooding on the 5th floor, people trapped")

    rows = (await steps.outbox(STAFF_CHAT))[staff_before:]
    relayed, notice = [row for row in rows if row["kind"] == "text"]
    assert "Flooding on the 3rd floor" in relayed["text"]
    assert "🚨" in notice["text"] and "P1" in notice["text"]
    assert "Flooding on the 5th floor, people trapped" in relayed["text"]
    (card,) = [row for row in rows if row["kind"] == "edit_text"]
    assert "5th floor" in card["text"] and "P1" in card["text"]


async def test_an_edit_without_a_new_urgent_signal_is_only_acknowledged(steps: Steps) -> None:
    user = 2003
    first_id = await say(steps, user, text="불이 났어요 3층입니다", lang="ko")
    before = len(await steps.outbox(user))

    await edit(steps, user, first_id, text="불이 났어요 4층입니다", lang="ko")

    (report,), _ = await reports_and_messages(steps)
    assert report.text == "불이 났어요 4층입니다"
    (ack,) = texts(await rows_to(steps, user, before))
    assert "수정하신 내용" in ack and "119" not in ack


async def test_an_edit_that_changes_the_scenario_sends_its_manual(steps: Steps) -> None:
    user = 2004
    first_id = await say(steps, user, text="Flooding in the basement car park")
    before = len(await steps.outbox(user))

    await edit(steps, user, first_id, text="Earthquake: the walls are shaking")

    (report,), _ = await reports_and_messages(steps)
    assert report.scenario == "earthquake"
    rows = await rows_to(steps, user, before)
    assert any(
        row.get("buttons", [[{}]])[0][0].get("data", "").startswith("cmp:earthquake")
        for row in rows
    )
    assert "correction was added" in rows[-1]["text"]


async def test_an_edit_of_a_closed_incident_starts_a_new_report_like_a_follow_up(
    steps: Steps,
) -> None:
    user = 2005
    first_id = await say(steps, user, text="Flooding on the 3rd floor")
    await say(steps, user, kind="location", place=CITY_HALL)
    async with steps.tx() as session:
        (incident,) = (await session.exec(select(Incident))).all()
        assert incident.id is not None
        await close(
            session=session,
            incident_id=incident.id,
            reason="resolved",
            actor=Actor(user_id=9, name="staff"),
            room=ROOM,
            now=START + timedelta(minutes=1),
        )

    await edit(steps, user, first_id, text="Flooding again, people trapped")

    (old, new), messages = await reports_and_messages(steps)
    assert old.text == "Flooding on the 3rd floor" and old.incident_id == incident.id
    assert new.text == "Flooding again, people trapped" and new.urgent
    assert messages[-1].report_id == new.id and messages[-1].kind == "text"


async def test_an_edit_of_a_cancelled_report_or_an_unknown_message_is_a_new_message(
    steps: Steps,
) -> None:
    user = 2006
    first_id = await say(steps, user, text="Tree fell on the road")
    async with steps.tx() as session:
        (report,) = (await session.exec(select(Report))).all()
        report.status = "cancelled"
        session.add(report)

    await edit(steps, user, first_id, text="Tree fell on a car")
    await edit(steps, 2007, 999, text="Smoke from the roof", now=LATER)

    reports, _ = await reports_and_messages(steps)
    assert [r.text for r in reports] == [
        "Tree fell on the road",
        "Tree fell on a car",
        "Smoke from the roof",
    ]


async def test_a_caption_removed_keeps_the_words_and_a_replaced_photo_is_kept(
    steps: Steps,
) -> None:
    user = 2008
    photo = IncomingFile(kind="photo", file_id="f-1", file_unique_id="u-1", data=b"\xff\xd8 a")
    first_id = await say(
        steps, user, kind="photo", file=photo, text="담벼락이 무너졌어요", lang="ko"
    )

    await edit(steps, user, first_id, kind="photo", file=photo, text=None, lang="ko")
    replaced = IncomingFile(kind="photo", file_id="f-2", file_unique_id="u-2", data=b"\xff\xd8 b")
    await edit(steps, user, first_id, kind="photo", file=replaced, text="담벼락 붕괴", lang="ko")

    (report,), messages = await reports_and_messages(steps)
    assert report.text == "담벼락이 무너졌어요\n담벼락 붕괴"
    assert [(m.kind, m.text) for m in messages] == [
        ("photo", "담벼락이 무너졌어요"),
        ("edit", None),
        ("edit", "담벼락 붕괴"),
        ("photo", "담벼락 붕괴"),
    ]
    async with steps.tx() as session:
        media = (await session.exec(select(ReportMedia).order_by(col(ReportMedia.id)))).all()
    assert [m.file_unique_id for m in media] == ["u-1", "u-2"]
    assert {m.status for m in media} == {"stored"}


async def test_the_same_words_again_are_acknowledged_without_a_record(steps: Steps) -> None:
    user = 2009
    first_id = await say(steps, user, text="Gas smell in the stairwell")

    await edit(steps, user, first_id, text="Gas smell in the stairwell")

    _, messages = await reports_and_messages(steps)
    assert [m.kind for m in messages] == ["text"]
    assert "correction was added" in (await steps.outbox(user))[-1]["text"]
