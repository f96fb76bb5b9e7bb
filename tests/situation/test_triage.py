"""Staff actions change the incident, record who/what/before/after, and queue their messages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from situation import triage
from situation.cards import StaffAction
from situation.followup import FollowUpAnswer, ask_due, record_answer
from situation.intake import IncomingPlace
from storage.engine import is_postgres
from storage.incidents import lock_incident
from storage.models.escalations import FollowUp, IncidentDeadline
from storage.models.incidents import IncidentStatus
from storage.topics import get_topic, topic_correlation
from tests.situation.conftest import START, Steps
from tests.situation.test_staffroom import DOYUN, FAR, HAEUN, ROOM, Room, texts


async def test_take_acknowledges_once_cancels_the_deadline_and_records_it(steps: Steps) -> None:
    room = Room(steps)
    await room.seed()
    incident = await room.report(501, "불이 났어요")
    await room.staff_rows()
    assert incident.id is not None
    later = START + timedelta(minutes=1)
    async with steps.tx() as session:
        outcome = await triage.take(
            session=session, incident_id=incident.id, actor=HAEUN, room=ROOM, now=later
        )
    assert outcome.ok
    async with steps.tx() as session:
        again = await triage.take(
            session=session, incident_id=incident.id, actor=HAEUN, room=ROOM, now=later
        )
        refused = await triage.take(
            session=session, incident_id=incident.id, actor=DOYUN, room=ROOM, now=later
        )
        moved = await triage.take(
            session=session, incident_id=incident.id, actor=DOYUN, room=ROOM, now=later, over=True
        )
        deadline = await session.get(IncidentDeadline, incident.id)
    assert not again.ok and moved.ok
    assert not refused.ok and refused.answer.startswith("정하은 님이 이미 담당 중입니다.")
    assert deadline is not None and deadline.cancelled_at == later and deadline.next_at is None
    taken = await room.incident(incident.id)
    assert taken.status == IncidentStatus.ACKNOWLEDGED and taken.holder == "9002"
    assert taken.acknowledged_at == later
    take_events = [e for e in await room.events(incident.id) if e.action == "take"]
    assert [(e.actor_name, e.before, e.after) for e in take_events] == [
        ("정하은", {"holder": None, "status": "new"}, {"holder": "9003", "status": "acknowledged"}),
        (
            "최도윤",
            {"holder": "9003", "status": "acknowledged"},
            {"holder": "9002", "status": "acknowledged"},
        ),
    ]
    told = [t for t in texts(await room.rows_to(501)) if "확인했습니다" in t]
    assert len(told) == 1  # the citizen hears about the acknowledgement once


async def test_menus_priority_scenario_escalate_and_close(steps: Steps) -> None:
    room = Room(steps)
    await room.seed()
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    await room.staff_rows()

    async def act(action: str, arg: str = "") -> triage.Outcome:
        async with steps.tx() as session:
            return await triage.perform(
                session=session,
                action=StaffAction(action, incident.id or 0, arg),
                actor=HAEUN,
                room=ROOM,
                now=START,
            )

    assert (await act("esc")).ok
    menu = (await room.staff_rows())[-1]
    assert menu.kind == "edit_markup" and menu.target_ref == f"incident:{incident.id}:card"
    assert (await act("pri", "P3")).ok and not (await act("pri", "P9")).ok
    async with steps.tx() as session:
        deadline = await session.get(IncidentDeadline, incident.id)
    assert deadline is not None and deadline.due_at == START + timedelta(minutes=30)

    assert (await act("scn", "explosion")).ok
    assert any("폭발" in text for text in texts(await room.rows_to(501)))
    assert (await act("escm", "fire119.phone")).ok
    escalated = await room.incident(incident.id)
    assert escalated.status == IncidentStatus.ESCALATED and escalated.acknowledged_at == START
    assert any("119 종합상황실" in text for text in texts(await room.rows_to(501)))

    assert (await act("clsr", "resolved")).ok
    assert not (await act("take")).ok  # closed incidents refuse every action
    rows = await room.staff_rows()
    assert [row.kind for row in rows][-1] == "close_topic"
    actions = [event.action for event in await room.events(incident.id)]
    assert actions == ["opened", "priority", "scenario", "escalate", "close"]


async def test_closing_schedules_a_follow_up_whose_answer_lands_in_the_topic(steps: Steps) -> None:
    room = Room(steps)
    incident = await room.report(501, "불이 났어요")
    assert incident.id is not None
    async with steps.tx() as session:
        await triage.close(
            session=session,
            incident_id=incident.id,
            reason="resolved",
            actor=HAEUN,
            room=ROOM,
            now=START,
            note="진화 완료",
        )
    await room.staff_rows()
    async with steps.tx() as session:
        assert await ask_due(session=session, now=START + timedelta(hours=1)) == 0
        assert await ask_due(session=session, now=START + timedelta(hours=2)) == 1
        assert await ask_due(session=session, now=START + timedelta(hours=3)) == 0
    question = texts(await room.rows_to(501))[-1]
    assert "안전하신가요" in question
    async with steps.tx() as session:
        (followup,) = (await session.exec(select(FollowUp))).all()
    data = FollowUpAnswer(followup.id or 0, "no").pack()
    parsed = FollowUpAnswer.unpack(data)
    assert parsed is not None
    async with steps.tx() as session:
        assert not await record_answer(
            session=session,
            followup_id=parsed.followup_id,
            answer="no",
            user_id=999,
            room=ROOM,
            now=START,
        )
        assert await record_answer(
            session=session,
            followup_id=parsed.followup_id,
            answer=parsed.answer,
            user_id=501,
            room=ROOM,
            now=START + timedelta(hours=2, minutes=5),
        )
    rows = await room.staff_rows()
    # A "no" reopens the incident for good: the topic stays open, the card and name redrawn.
    assert [row.kind for row in rows] == ["reopen_topic", "edit_text", "edit_topic", "text"]
    assert "도움이 필요하다고" in texts(rows)[3] and "다시 열었습니다" in texts(rows)[3]
    reopened = await room.incident(incident.id)
    assert reopened.status == IncidentStatus.NEW and reopened.closed_at is None
    async with steps.tx() as session:
        deadline = await session.get(IncidentDeadline, incident.id)
    assert deadline is not None and deadline.cancelled_at is None and deadline.step == 0
    assert deadline.next_at == START + timedelta(hours=2, minutes=7)  # P1: 2 minutes from now
    assert deadline.started_at == START + timedelta(hours=2, minutes=5)  # the clock restarts
    actions = [event.action for event in await room.events(incident.id)]
    assert actions[-2:] == ["followup", "reopen"]


def test_close_arguments_read_the_reason_and_the_note() -> None:
    assert triage.close_arguments("false_alarm") == ("false_alarm", None)
    assert triage.close_arguments("duplicate 같은 건물") == ("duplicate", "같은 건물")
    assert triage.close_arguments("진화 완료") == ("resolved", "진화 완료")
    assert triage.close_arguments(None) == ("resolved", None)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("false-alarm 장난 신고", ("false_alarm", "장난 신고")),
        ("False Alarm", ("false_alarm", None)),
        ("FALSE_ALARM\n두 줄\n메모", ("false_alarm", "두 줄\n메모")),
        ("오인 신고 이웃집 연기", ("false_alarm", "이웃집 연기")),
        ("오인신고", ("false_alarm", None)),
        ("중복 R-0001 건과 같음", ("duplicate", "R-0001 건과 같음")),
        ("Duplicate", ("duplicate", None)),
        ("해결 잔불 정리 끝", ("resolved", "잔불 정리 끝")),
        ("Resolved", ("resolved", None)),
        # Korean endings and shortened spellings are the reason too.
        ("해결됨", ("resolved", None)),
        ("중복입니다 R-0001", ("duplicate", "R-0001")),
        ("오인", ("false_alarm", None)),
        ("resolve fire out", ("resolved", "fire out")),
        ("dup", ("duplicate", None)),
        ("false", ("false_alarm", None)),
    ],
)
def test_close_reasons_are_read_in_any_obvious_spelling(
    args: str, expected: tuple[str, str | None]
) -> None:
    """Ids and labels (Korean and English) in any case, with -, _ or a space between words."""
    assert triage.close_arguments(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        "duplcate 같은 건물",
        "false-alrm",
        "flase alarm",
        "오보",
        "오보 확인",
        "허위 신고",
        "증복",
    ],
)
def test_a_mistyped_reason_closes_nothing(args: str) -> None:
    """A first word a few edits from a reason was meant as one: neither resolved nor a note."""
    assert triage.close_arguments(args) == (None, None)


@pytest.mark.parametrize("args", ["진화 완료", "화재 진압 완료", "완료", "fire out, all safe"])
def test_a_note_that_merely_looks_like_any_short_word_resolves(args: str) -> None:
    """Two Korean syllables are two edits from 해결: words far from every reason are the note."""
    assert triage.close_arguments(args) == ("resolved", args)


def test_close_usage_lists_every_reason_in_both_languages() -> None:
    korean, english = triage.close_usage("ko"), triage.close_usage("en")
    assert "종결하지 않았습니다" in korean and "오인 신고 (false_alarm)" in korean
    assert "Not closed" in english and "false_alarm (false alarm)" in english
    for reason in ("resolved", "false_alarm", "duplicate"):
        assert reason in korean and reason in english


async def test_two_takes_at_once_leave_one_holder_and_refuse_the_other(steps: Steps) -> None:
    """The second press waits for the first's row lock and reads who holds it (two workers)."""
    room = Room(steps)
    await room.seed()
    incident = await room.report(502, "불이 났어요")
    await room.staff_rows()
    assert incident.id is not None
    iid, later = incident.id, START + timedelta(minutes=1)
    first_took = asyncio.Event()

    async def first() -> triage.Outcome:
        async with steps.tx() as session:
            outcome = await triage.take(
                session=session, incident_id=iid, actor=HAEUN, room=ROOM, now=later
            )
            first_took.set()
            await asyncio.sleep(0.3)  # still uncommitted while the second press runs
            return outcome

    async def second() -> triage.Outcome:
        await first_took.wait()
        async with steps.tx() as session:
            return await triage.take(
                session=session, incident_id=iid, actor=DOYUN, room=ROOM, now=later
            )

    taken, refused = await asyncio.gather(first(), second())
    assert taken.ok and not refused.ok
    assert refused.answer.startswith("정하은 님이 이미 담당 중입니다.")
    assert (await room.incident(iid)).holder == "9003"


async def test_a_no_about_an_incident_merged_away_after_a_reopening_keeps_it_merged(
    steps: Steps,
) -> None:
    room = Room(steps)
    await room.seed()
    first = await room.report(501, "불이 났어요")
    await room.report(502, "불이 났어요")
    assert first.id is not None and len(await room.incidents()) == 1  # one incident, two citizens
    async with steps.tx() as session:
        await triage.close(
            session=session,
            incident_id=first.id,
            reason="resolved",
            actor=HAEUN,
            room=ROOM,
            now=START,
        )
    async with steps.tx() as session:
        assert await ask_due(session=session, now=START + timedelta(hours=2)) == 2
        followups = {f.citizen_user_id: f for f in (await session.exec(select(FollowUp))).all()}
    async with steps.tx() as session:  # the first citizen's "no" brings it back
        assert await record_answer(
            session=session,
            followup_id=followups[501].id or 0,
            answer="no",
            user_id=501,
            room=ROOM,
            now=START + timedelta(hours=2, minutes=1),
        )
    assert (await room.incident(first.id)).status == IncidentStatus.NEW
    other = await room.report(503, "연기가 나요", place=FAR)
    assert other.id is not None and other.id != first.id
    async with steps.tx() as session:  # a duplicate: merged into the other incident
        outcome = await triage.merge(
            session=session,
            source_id=first.id,
            target_id=other.id,
            actor=HAEUN,
            room=ROOM,
            now=START + timedelta(hours=2, minutes=2),
        )
    assert outcome.ok
    await room.staff_rows()
    async with steps.tx() as session:  # the second citizen, asked before, answers "no" now
        assert await record_answer(
            session=session,
            followup_id=followups[502].id or 0,
            answer="no",
            user_id=502,
            room=ROOM,
            now=START + timedelta(hours=2, minutes=3),
        )
    merged = await room.incident(first.id)
    assert merged.status == IncidentStatus.CLOSED and merged.merged_into_id == other.id
    async with steps.tx() as session:
        deadline = await session.get(IncidentDeadline, first.id)
    assert deadline is not None and deadline.cancelled_at is not None and deadline.next_at is None
    assert "reopen" not in [e.action for e in await room.events(first.id)][-2:]
    # The answer is posted where the citizen's report lives now: the target's topic.
    rows = await room.staff_rows()
    assert "reopen_topic" not in [row.kind for row in rows]
    answer = [row for row in rows if "도움이 필요하다고" in row.payload.get("text", "")]
    assert len(answer) == 1
    async with steps.tx() as session:
        target_topic = await get_topic(session=session, incident_id=other.id)
    assert target_topic is not None
    assert answer[0].thread_ref == topic_correlation(other.id, target_topic.generation)


async def test_two_merges_of_a_pair_in_opposite_directions_do_not_deadlock(
    steps: Steps, database_url: str
) -> None:
    """Both merges take the pair's rows in one order (ids): one merges, the other is refused."""
    if not is_postgres(database_url):
        pytest.skip("row locks: SQLite's writers take turns for the whole transaction")
    room = Room(steps)
    await room.seed()
    one = await room.report(501, "불이 났어요")
    two = await room.report(503, "연기가 나요", place=FAR)
    assert one.id is not None and two.id is not None and one.id < two.id
    later = START + timedelta(minutes=1)

    async def merge(source_id: int, target_id: int) -> triage.Outcome:
        async with steps.tx() as session:
            return await triage.merge(
                session=session,
                source_id=source_id,
                target_id=target_id,
                actor=HAEUN,
                room=ROOM,
                now=later,
            )

    # Another action holds both rows while the two presses arrive: each merge waits for the
    # first row it locks, and both go on when that action commits.
    async with steps.tx() as holder:
        await lock_incident(session=holder, incident_id=one.id)
        await lock_incident(session=holder, incident_id=two.id)
        presses = asyncio.gather(merge(one.id, two.id), merge(two.id, one.id))
        await asyncio.sleep(0.5)
    outcomes = await presses
    assert sorted(outcome.ok for outcome in outcomes) == [False, True]


async def test_a_merge_into_a_closed_or_merged_incident_names_it_and_where_it_went(
    steps: Steps,
) -> None:
    """The refusal named neither incident: "already closed" read as the source's state."""
    room = Room(steps)
    await room.seed()
    one = await room.report(501, "불이 났어요")
    two = await room.report(503, "연기가 나요", place=FAR)
    three = await room.report(
        505, "Smoke on the hill", place=IncomingPlace(latitude=37.5133, longitude=127.1001)
    )
    assert one.id is not None and two.id is not None and three.id is not None
    english = replace(ROOM, lang="en")
    later = START + timedelta(minutes=1)
    async with steps.tx() as session:
        assert (
            await triage.merge(
                session=session,
                source_id=two.id,
                target_id=three.id,
                actor=HAEUN,
                room=english,
                now=later,
            )
        ).ok
        into_merged = await triage.merge(
            session=session,
            source_id=one.id,
            target_id=two.id,
            actor=HAEUN,
            room=english,
            now=later,
        )
        await triage.close(
            session=session,
            incident_id=three.id,
            reason="resolved",
            actor=HAEUN,
            room=english,
            now=later,
        )
        into_closed = await triage.merge(
            session=session,
            source_id=one.id,
            target_id=three.id,
            actor=HAEUN,
            room=english,
            now=later,
        )
    refs = {i.id: (await room.incident(i.id or 0)).reference for i in (two, three)}
    assert not into_merged.ok and into_merged.answer == (
        f"{refs[two.id]} was already merged into {refs[three.id]}:"
        f" merge into {refs[three.id]} instead."
    )
    assert not into_closed.ok
    assert (
        into_closed.answer == f"{refs[three.id]} is already closed: nothing can be merged into it."
    )
    assert (await room.incident(one.id)).status == IncidentStatus.NEW
