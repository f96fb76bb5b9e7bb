"""End to end: /start with consent, /lang, buttons, /new, /cancel, /myreports, live locations,
words after a known command (filed, or kept out by /cancel and /forget; edits), and what is
not a command: captions, unknown commands with words."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from sandbox.images import tiny_png
from storage.models.citizens import Citizen
from storage.models.commands import CommandMessage
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    bot_messages,
    bot_texts,
    media_of,
    north_of,
    reports_of,
    settle,
)
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import report_fire, seed_staff, text_of, topic_messages, topics


def button_data(message: dict[str, Any]) -> list[str]:
    """Return every callback_data of a message's inline keyboard."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button.get("callback_data", "") for row in rows for button in row]


async def test_start_consent_and_language(app: E2E) -> None:
    citizen = await app.citizen("Sarah", "en")
    client, chat = app.client, citizen.id
    await client.start_bot(citizen.id, bot_token=app.token)
    await settle(app, chat)
    welcome, consent = await bot_messages(app, chat)
    assert "does not replace a 119 or 112 call" in welcome["text"]
    assert "30 days" in consent["text"] and button_data(consent) == ["ccn:accept", "ccn:decline"]
    await client.press_button(citizen.id, chat, consent["message_id"], "ccn:accept")
    await settle(app, chat)
    shown = await bot_messages(app, chat)
    assert "consent is recorded" in shown[-1]["text"]
    answered = next(m for m in shown if m["message_id"] == consent["message_id"])
    assert button_data(answered) == []  # answered once: its buttons are gone

    await client.send_text(citizen.id, chat, "/lang")
    await settle(app, chat)
    choice = (await bot_messages(app, chat))[-1]
    await client.press_button(citizen.id, chat, choice["message_id"], "clg:ko")
    await settle(app, chat)
    shown = await bot_messages(app, chat)
    assert "한국어" in shown[-1]["text"]
    assert button_data(next(m for m in shown if m["message_id"] == choice["message_id"])) == []
    await client.send_text(citizen.id, chat, "/help")
    await settle(app, chat)
    assert "신고하는 법" in (await bot_messages(app, chat))[-1]["text"]


async def test_manual_pages_and_scenario_choice_buttons(app: E2E) -> None:
    citizen = await app.citizen("버튼", "ko")
    client, chat = app.client, citizen.id
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "뭔가 이상해요 냄새가")
    await settle(app, chat)
    choices = next(
        m
        for m in await bot_messages(app, chat)
        if any(d.startswith("csc:") for d in button_data(m))
    )
    picked = button_data(choices)[0]
    await client.press_button(citizen.id, chat, choices["message_id"], picked)
    await settle(app, chat)
    manual = (await bot_messages(app, chat))[-1]
    pages = [d for d in button_data(manual) if d.startswith("cmp:")]
    assert pages and pages[0].endswith(":1:ko")
    (report,) = await reports_of(app, citizen.id)
    assert report.scenario == picked.split(":")[2] and report.scenario_confirmed
    if len(pages) > 1:
        before = manual["text"]
        await client.press_button(citizen.id, chat, manual["message_id"], pages[1])
        await settle(app, chat)
        edited = next(
            m for m in await bot_messages(app, chat) if m["message_id"] == manual["message_id"]
        )
        assert edited["text"] != before


async def test_a_scenario_choice_pressed_twice_sends_its_manual_once(app: E2E) -> None:
    for name, lang, words in (
        ("두번", "ko", "뭔가 이상해요 냄새가"),
        ("Twice", "en", "theres a weird smell"),
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, words)
        await settle(app, chat)
        choices = next(
            m
            for m in await bot_messages(app, chat)
            if any(d.startswith("csc:") for d in button_data(m))
        )
        picked = button_data(choices)[0]
        for _ in range(2):
            answer = await client.press_button(citizen.id, chat, choices["message_id"], picked)
            assert answer["answered"] is True
        await settle(app, chat)
        manuals = [
            m
            for m in await bot_messages(app, chat)
            if any(d.startswith("cmp:") for d in button_data(m))
        ]
        assert len(manuals) == 1, lang
        assert button_data(manuals[0])[0].endswith(f":1:{lang}")


async def test_new_cancel_and_myreports(app: E2E) -> None:
    citizen = await app.citizen("명령", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "도로에 큰 싱크홀이 생겼어요")
    await settle(app, chat)
    await client.send_text(citizen.id, chat, "/new")
    await client.send_text(citizen.id, chat, "가로등이 넘어져 있어요")
    await client.send_text(citizen.id, chat, "/cancel")
    await client.send_text(citizen.id, chat, "/myreports")
    await settle(app, chat)
    first, second = await reports_of(app, citizen.id)
    assert first.text == "도로에 큰 싱크홀이 생겼어요" and first.sealed_at is not None
    assert second.text == "가로등이 넘어져 있어요" and second.status == "cancelled"
    listing = (await bot_messages(app, chat))[-1]["text"]
    assert (first.reference or "?") in listing and (second.reference or "?") in listing
    assert "취소" in listing


async def test_live_location_moves_the_report(app: E2E) -> None:
    citizen = await app.citizen("실시간", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    live = await client.send_location(citizen.id, chat, *CITY_HALL, live_period=900)
    await settle(app, chat)
    moved = north_of(CITY_HALL, 300)
    await client.edit_live_location(citizen.id, chat, live["message_id"], *moved)
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.live_message_id == live["message_id"]
    assert (report.latitude, report.longitude) == moved
    assert any("실시간 위치" in (m.get("text") or "") for m in await bot_messages(app, chat))


async def test_a_photo_captioned_like_a_command_is_a_report_photo(app: E2E) -> None:
    citizen = await app.citizen("캡션", "ko")
    client, chat = app.client, citizen.id
    captions = ["/help", "/new", "/manual 지진", "/expert"]
    for number, caption in enumerate(captions):
        await client.send_photo(citizen.id, chat, tiny_png(rgb=(number, 2, 3)), caption=caption)
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "\n".join(captions)
    assert [m.status for m in await media_of(app, report.id)] == ["stored"] * len(captions)
    texts = await bot_texts(app, chat)
    assert not any("신고하는 법" in text or "지진" in text or "전문가" in text for text in texts)


async def test_an_unknown_command_with_words_files_a_report_with_the_urgent_prompt(
    app: E2E,
) -> None:
    citizen = await app.citizen("Lift", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/119 people trapped in elevator")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "/119 people trapped in elevator"
    assert report.urgent and report.status == "filed" and report.scenario == "elevator"
    texts = await bot_texts(app, chat)
    assert "119" in texts[0] and "How to report" not in texts[0]
    assert any((report.reference or "?") in text for text in texts[1:])
    assert not any("How to report" in text for text in texts)


async def test_a_bare_unknown_command_gets_the_help_text(app: E2E) -> None:
    citizen = await app.citizen("Foo", "en")
    await app.client.send_text(citizen.id, citizen.id, "/foo")
    await settle(app, citizen.id)
    (answer,) = await bot_texts(app, citizen.id)
    assert "How to report" in answer
    assert await reports_of(app, citizen.id) == []


def manual_slugs(messages: list[dict[str, Any]]) -> list[str]:
    """Return the scenario of every manual among the messages (by their page buttons)."""
    return [
        data.split(":")[1]
        for message in messages
        for data in button_data(message)[:1]
        if data.startswith("cmp:")
    ]


async def test_help_with_words_answers_and_files_the_words_calling_119_first(app: E2E) -> None:
    citizen = await app.citizen("Basement", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/help people are trapped in the basement")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "people are trapped in the basement"
    assert report.urgent and report.status == "filed" and report.scenario is not None
    messages = await bot_messages(app, chat)
    texts = [m.get("text") or "" for m in messages]
    # Nothing comes before "call 119 now"; then the command's answer, then the report's.
    assert "Call 119 now" in texts[0] and "How to report" in texts[1]
    assert sum("Call 119 now" in text for text in texts) == 1
    assert manual_slugs(messages[2:]) == [report.scenario]
    assert (report.reference or "?") in texts[-1]


async def test_start_with_words_welcomes_asks_consent_and_files_the_words(app: E2E) -> None:
    citizen = await app.citizen("Floor", "en")
    client, chat = app.client, citizen.id
    await client.start_bot(citizen.id, bot_token=app.token, payload="fire on the 3rd floor")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "fire on the 3rd floor" and report.scenario == "fire"
    assert report.urgent and report.status == "filed"
    messages = await bot_messages(app, chat)
    texts = [m.get("text") or "" for m in messages]
    assert "Call 119 now" in texts[0]
    assert "does not replace a 119 or 112 call" in texts[1]
    assert button_data(messages[2]) == ["ccn:accept", "ccn:decline"]
    assert manual_slugs(messages[3:]) == ["fire"]
    assert (report.reference or "?") in texts[-1]
    # The consent notice was just shown: the short privacy notice does not repeat it.
    assert not any("See /start for details" in text for text in texts)


async def test_new_with_words_starts_the_new_report_with_them(app: E2E) -> None:
    citizen = await app.citizen("새신고", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "도로에 큰 싱크홀이 생겼어요")
    await settle(app, chat)
    before = len(await bot_texts(app, chat))
    await client.send_text(citizen.id, chat, "/new 가로등이 넘어져 있어요")
    await settle(app, chat)
    first, second = await reports_of(app, citizen.id)
    assert first.text == "도로에 큰 싱크홀이 생겼어요" and first.sealed_at is not None
    assert second.text == "가로등이 넘어져 있어요" and second.message_count == 1
    answers = (await bot_texts(app, chat))[before:]
    assert "새 신고를 시작합니다" in answers[0]
    assert any((second.reference or "?") in text for text in answers[1:])


async def test_myreports_with_words_lists_then_files_them_with_the_privacy_notice(
    app: E2E,
) -> None:
    citizen = await app.citizen("Lamp", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/myreports the street light at the bus stop is out")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "the street light at the bus stop is out"
    texts = await bot_texts(app, chat)
    assert "You have not reported anything yet" in texts[0]
    # A first message of words is told how long it is kept, with or without a command before it.
    assert any("See /start for details" in text for text in texts[1:])


async def test_cancel_with_words_cancels_and_files_nothing(app: E2E) -> None:
    citizen = await app.citizen("취소", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "도로에 큰 싱크홀이 생겼어요")
    await settle(app, chat)
    await client.send_text(citizen.id, chat, "/cancel 주소를 잘못 적었어요")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.status == "cancelled" and report.text == "도로에 큰 싱크홀이 생겼어요"
    assert report.message_count == 1
    answer = (await bot_texts(app, chat))[-1]
    assert (report.reference or "?") in answer and "접수하지 않았습니다" in answer

    await client.send_text(citizen.id, chat, "/cancel 다시 한 번")
    await settle(app, chat)
    assert len(await reports_of(app, citizen.id)) == 1
    answer = (await bot_texts(app, chat))[-1]
    assert "진행 중인 신고가 없습니다" in answer and "접수하지 않았습니다" in answer


async def test_lang_with_a_language_sets_it_and_other_words_are_filed(app: E2E) -> None:
    citizen = await app.citizen("언어", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/lang en")
    await settle(app, chat)
    assert "in English from now on" in (await bot_texts(app, chat))[-1]
    await client.send_text(citizen.id, chat, "/lang 한국어")
    await settle(app, chat)
    assert "한국어로 안내합니다" in (await bot_texts(app, chat))[-1]
    assert await reports_of(app, citizen.id) == []

    before = len(await bot_messages(app, chat))
    await client.send_text(citizen.id, chat, "/lang 다리가 심하게 흔들려요")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "다리가 심하게 흔들려요"
    answers = (await bot_messages(app, chat))[before:]
    assert button_data(answers[0]) == ["clg:ko", "clg:en"]
    assert any((report.reference or "?") in (m.get("text") or "") for m in answers[1:])


async def test_forget_with_words_asks_and_stores_nothing(app: E2E) -> None:
    citizen = await app.citizen("Forget", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/forget my address is 12 Sejong-daero, delete it")
    await settle(app, chat)
    assert await reports_of(app, citizen.id) == []
    (question,) = await bot_messages(app, chat)
    assert "Delete your personal data?" in question["text"]
    assert "was not stored" in question["text"]
    assert [data.split(":")[0] for data in button_data(question)] == ["cfg", "cfg"]


async def test_an_edit_of_a_command_with_words_edits_the_words_alone(app: E2E) -> None:
    citizen = await app.citizen("Edit", "en")
    client, chat = app.client, citizen.id
    sent = await client.send_text(citizen.id, chat, "/help water is rising in the basement")
    await settle(app, chat)
    await client.edit_text(
        citizen.id, chat, sent["message_id"], "/help water is rising in the parking garage"
    )
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "water is rising in the parking garage"
    assert sum("How to report" in text for text in await bot_texts(app, chat)) == 1
    # An edit does not run the command again: words put after /cancel are kept out still.
    cancel = await client.send_text(citizen.id, chat, "/cancel")
    await settle(app, chat)
    await client.edit_text(citizen.id, chat, cancel["message_id"], "/cancel wrong building")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "water is rising in the parking garage"
    assert report.status == "cancelled" and report.message_count == 1


async def test_a_command_edited_into_plain_words_files_nothing(app: E2E) -> None:
    citizen = await app.citizen("Mistake", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "A tree fell on the road")
    await settle(app, chat)
    cancel = await client.send_text(citizen.id, chat, "/cancel it was a mistake")
    await settle(app, chat)
    await client.edit_text(citizen.id, chat, cancel["message_id"], "it was a mistake")
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    assert report.status == "cancelled" and report.message_count == 1
    assert "its edit is not a report" in (await bot_texts(app, chat))[-1]

    # The same for /forget's words and a bare /start; urgent words still get 119 first.
    forget = await client.send_text(citizen.id, chat, "/forget my address is 12 Sejong-daero")
    start = await client.send_text(citizen.id, chat, "/start")
    await settle(app, chat)
    await client.edit_text(citizen.id, chat, forget["message_id"], "my address is 12 Sejong-daero")
    await settle(app, chat)
    await client.edit_text(citizen.id, chat, start["message_id"], "people are trapped in a fire")
    await settle(app, chat)
    assert len(await reports_of(app, citizen.id)) == 1
    prompt, answer = (await bot_texts(app, chat))[-2:]
    assert prompt.startswith("🚨 Call 119 now") and "its edit is not a report" in answer


async def test_words_after_a_command_reach_the_incident_topic(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    await app.client.send_text(citizen.id, citizen.id, "/myreports 계단에 사람이 갇혀 있어요")
    await app.settle()
    shown = [text_of(m) for m in await topic_messages(app, int(topic["message_thread_id"]))]
    assert any("계단에 사람이 갇혀 있어요" in text for text in shown)
    assert not any("/myreports" in text for text in shown)


async def _trace(app: E2E, user_id: int) -> tuple[bool, list[int]]:
    """Whether the bot knows the user as a citizen, and the command messages it recorded."""
    async with app.runtime.session_factory() as session:
        citizen = (
            await session.exec(select(Citizen).where(col(Citizen.telegram_user_id) == user_id))
        ).one_or_none()
        if citizen is None:
            return False, []
        rows = await session.exec(
            select(CommandMessage.message_id).where(col(CommandMessage.citizen_id) == citizen.id)
        )
        return True, sorted(rows.all())


async def test_a_cancel_from_someone_the_bot_never_saw_is_answered_and_recorded(
    app: E2E,
) -> None:
    """A stranger's first message is /cancel: they are told there is nothing to cancel (and
    that their words were not filed), and the command is recorded as a known citizen's is,
    so that its edit into plain words files nothing either."""
    known = await app.citizen("Known", "en")
    await app.client.send_text(known.id, known.id, "/start")
    await settle(app, known.id)
    stranger = await app.citizen("Stranger", "en")
    assert await _trace(app, stranger.id) == (False, [])
    sent = {}
    for person in (known, stranger):
        sent[person.id] = await app.client.send_text(person.id, person.id, "/cancel a mistake")
        await settle(app, person.id)

    answers = [(await bot_texts(app, person.id))[-1] for person in (known, stranger)]
    assert answers[0] == answers[1]
    assert answers[1].startswith("You have no open report to cancel.")
    assert "was not filed" in answers[1]
    for person in (known, stranger):  # the known citizen's /start is recorded before it
        known_to_bot, commands = await _trace(app, person.id)
        assert known_to_bot and commands[-1] == int(sent[person.id]["message_id"])
    await app.client.edit_text(
        stranger.id, stranger.id, sent[stranger.id]["message_id"], "a mistake"
    )
    await settle(app, stranger.id)
    assert await reports_of(app, stranger.id) == []
    assert "its edit is not a report" in (await bot_texts(app, stranger.id))[-1]


async def test_cancel_of_a_report_staff_already_see_tells_the_topic_and_redraws_the_card(
    app: E2E,
) -> None:
    """The topic and card went on showing a report its citizen had cancelled, with no word."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    (report,) = await reports_of(app, citizen.id)

    await app.client.send_text(citizen.id, citizen.id, "/cancel")
    await app.settle()

    shown = [text_of(m) for m in await topic_messages(app, thread) if m["from"]["is_bot"]]
    notice = [t for t in shown if (report.reference or "?") in t and "취소" in t]
    assert len(notice) == 1, shown
    the_card = next(m for m in await topic_messages(app, thread) if m.get("pinned"))
    assert "연결된 신고: 0건" in text_of(the_card)
    assert "취소" in text_of(the_card)
