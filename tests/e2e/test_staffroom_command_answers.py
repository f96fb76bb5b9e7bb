"""End to end: a staff command typed with missing or wrong arguments, in the wrong place or by
someone whose role is too weak gets an answer saying what to type, in Korean and in English;
nothing is silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.settings import Settings
from storage.models.audit import IncidentEvent
from tests.e2e.citizen_helpers import bot_texts
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import report_fire, seed_staff, text_of, topic_messages, topics
from tests.e2e.test_staffroom_triage import _team_a_ends_in_ten_minutes


async def _answers(app: E2E, user_id: int, command: str, thread: int | None = None) -> list[str]:
    """Type ``command`` in the staff room (General, or a topic) and return the bot's answers."""
    chat = app.world.staff_chat_id
    if thread is None:
        before = await app.client.messages(chat)
    else:
        before = await topic_messages(app, thread)
    await app.client.send_text(user_id, chat, command, message_thread_id=thread)
    await app.settle()
    after = await app.client.messages(chat) if thread is None else await topic_messages(app, thread)
    answers = [text_of(m) for m in after[len(before) :] if m.get("from", {}).get("is_bot")]
    # The shift hand-over the scheduler posts at start-up is no answer to the command.
    return [text for text in answers if not text.startswith("🔄")]


def _english(settings: Settings) -> None:
    """The situation room works in English."""
    settings.default_language = "en"


def _english_with_roster(settings: Settings) -> None:
    """The situation room works in English with a roster of teams A, B and C."""
    _english(settings)
    _team_a_ends_in_ten_minutes(settings)


async def _topic_thread(app: E2E) -> tuple[Any, int]:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    return citizen, int(topic["message_thread_id"])


async def test_all_without_words_or_outside_a_topic_says_what_to_type(app: E2E) -> None:
    """`/all` with no words, or `/all TEXT` in General, went nowhere without a word: staff
    believed they had answered the citizens."""
    citizen, thread = await _topic_thread(app)
    haeun = app.world.person("정하은")
    heard = len(await bot_texts(app, citizen.id))

    assert await _answers(app, haeun.id, "/all", thread) == [
        "사용법: /all 내용 — 이 사건의 모든 시민에게 보냅니다."
    ]
    assert await _answers(app, haeun.id, "/all 곧 도착합니다") == [
        "사건 토픽 안에서 사용해 주세요."
    ]
    assert len(await bot_texts(app, citizen.id)) == heard


@pytest.mark.bot_settings.with_args(_english)
async def test_ref_and_note_without_words_say_what_to_type_in_english(app: E2E) -> None:
    """`/ref` and `/note` alone got silence (and `/note` recorded an empty note)."""
    _, thread = await _topic_thread(app)
    haeun = app.world.person("정하은")

    assert await _answers(app, haeun.id, "/all", thread) == [
        "Usage: /all TEXT — sends it to every citizen of this incident."
    ]
    assert await _answers(app, haeun.id, "/ref", thread) == [
        "Usage: /ref NUMBER — records the agency's reference on the latest hand-over."
    ]
    assert await _answers(app, haeun.id, "/note  ", thread) == [
        "Usage: /note TEXT — an internal note, never sent to citizens."
    ]
    async with app.runtime.session_factory() as session:
        actions = (await session.exec(select(IncidentEvent.action))).all()
    assert "note" not in actions  # no empty note in the timeline


@pytest.mark.bot_settings.with_args(_team_a_ends_in_ten_minutes)
async def test_duty_with_wrong_arguments_names_the_teams(app: E2E) -> None:
    """`/duty set` alone, `/duty set B now` and `/duty foo` showed the duty as if asked for it;
    `/duty set Z` said only "not a valid choice"; a staff member was told only staff may."""
    await seed_staff(app)
    doyun, haeun = app.world.person("최도윤"), app.world.person("정하은")
    usage = (
        "사용법: /duty — 지금과 다음 근무조 · /duty set 조 — 이번 근무를 다른 조로 바꿉니다"
        " (조장 이상). 근무조: A, B, C"
    )
    for command in ("/duty set", "/duty set Z", "/duty set B now", "/duty foo"):
        assert await _answers(app, doyun.id, command) == [usage], command
    assert await _answers(app, haeun.id, "/duty set B") == ["조장(lead) 이상만 할 수 있습니다."]
    (shown,) = await _answers(app, doyun.id, "/duty set B")
    assert "B조 (조장 변경)" in shown


@pytest.mark.bot_settings.with_args(_english_with_roster)
async def test_duty_and_staff_with_wrong_arguments_answer_in_english(app: E2E) -> None:
    await seed_staff(app)
    doyun, seoyeon = app.world.person("최도윤"), app.world.person("이서연")
    assert await _answers(app, doyun.id, "/duty set Z") == [
        "Usage: /duty — who is on duty now and next · /duty set TEAM — puts another team on"
        " this shift (leads). Teams: A, B, C"
    ]
    assert await _answers(app, doyun.id, "/staff add 12 staff Kim") == [
        "Only an admin can do this."
    ]
    staff_usage = [
        "Usage: /staff list · /staff add ID ROLE NAME · /staff remove ID (admins). Roles:"
        " staff, lead, admin. In reply to someone's message: /staff add ROLE, /staff remove."
    ]
    for command in (
        "/staff add",
        "/staff add 12 boss Kim",
        "/staff remove abc",
        "/staff foo",
        # Not ids: a superscript digit passes str.isdigit, and a number past 64 bits or with two
        # minus signs failed the update with no answer.
        "/staff add ² staff Kim",
        "/staff add 99999999999999999999 staff Kim",
        "/staff remove --5",
        "/staff remove 99999999999999999999",
    ):
        assert await _answers(app, seoyeon.id, command) == staff_usage, command


async def test_staff_with_wrong_arguments_says_what_to_type(app: E2E) -> None:
    await seed_staff(app)
    doyun, seoyeon = app.world.person("최도윤"), app.world.person("이서연")
    assert await _answers(app, doyun.id, "/staff remove 12") == ["관리자(admin)만 할 수 있습니다."]
    (usage,) = await _answers(app, seoyeon.id, "/staff add 12 boss 김")
    assert usage.startswith("사용법: /staff list · /staff add ID 역할 이름")


async def test_a_stranger_typing_staff_commands_is_refused_and_nothing_changes(
    app: E2E,
) -> None:
    """Someone in the group who is not registered staff got silence, as if the command worked;
    a card button already told them it is for staff only."""
    citizen, thread = await _topic_thread(app)
    heard = len(await bot_texts(app, citizen.id))
    newcomer = await app.citizen("New Colleague", "en")
    await app.client.add_member(app.world.staff_chat_id, newcomer.id)
    refused = ["Only situation-room staff can use this."]

    for command in ("/close", "/all we are coming", "/note x", "/history", "/canned"):
        assert await _answers(app, newcomer.id, command, thread) == refused, command
    for command in ("/help", "/duty", "/stats", "/staff add 1 admin Me", "/handbook"):
        assert await _answers(app, newcomer.id, command) == refused, command
    assert await _answers(app, newcomer.id, "/close@OtherBot", thread) == []  # not ours

    (topic,) = await topics(app)
    assert not topic.get("is_closed")
    assert len(await bot_texts(app, citizen.id)) == heard
