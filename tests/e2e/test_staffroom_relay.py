"""End to end: a citizen report opens a topic with its card; staff take it and talk with the
citizen through the topic; notes stay internal; strangers are refused."""

from __future__ import annotations

from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import CITY_HALL, bot_messages, bot_texts
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    seed_staff,
    text_of,
    topic_messages,
    topics,
)


async def test_report_opens_topic_with_card_and_take_tells_the_citizen(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)

    (topic,) = await topics(app)
    assert topic["name"].startswith("🔴 🔥 중구 I-")
    thread = int(topic["message_thread_id"])
    the_card = await card(app, thread)
    assert "화재" in text_of(the_card) and "P1" in text_of(the_card)
    assert "불이 났어요" in text_of(the_card) and "접수 기한" in text_of(the_card)
    shown = await topic_messages(app, thread)
    assert any("location" in message for message in shown)

    haeun = app.world.person("정하은")
    answer = await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    assert answer.get("show_alert") is not True

    the_card = await card(app, thread)
    assert "정하은" in text_of(the_card) and "접수됨" in text_of(the_card)
    (topic,) = await topics(app)
    assert topic["name"].startswith("🟡")
    assert any(
        "상황실이 신고" in text and "확인했습니다" in text
        for text in await bot_texts(app, citizen.id)
    )


async def test_stranger_pressing_a_staff_button_is_refused_and_nothing_changes(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    before = await card(app, thread)
    stranger = await app.client.create_user(first_name="Mallory", language_code="en")
    await app.client.add_member(app.world.staff_chat_id, int(stranger["id"]))

    answer = await press(app, int(stranger["id"]), before, button_data(before, "st:take:"))
    # Refused in the stranger's own language (English), not the staff room's.
    assert answer["show_alert"] is True and "Only situation-room staff" in answer["text"]
    after = await card(app, thread)
    assert text_of(after) == text_of(before)
    (topic,) = await topics(app)
    assert topic["name"].startswith("🔴")


async def test_text_photo_and_location_pass_both_ways_and_notes_stay_internal(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    staff_chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    client = app.client

    await client.send_text(
        haeun.id,
        staff_chat,
        "소방차가 출동했습니다. 건물 밖으로 나오세요.",
        message_thread_id=thread,
    )
    await client.send_text(
        haeun.id, staff_chat, "! 119 종합상황실과 통화 중", message_thread_id=thread
    )
    await client.send_text(
        haeun.id, staff_chat, "/note 현장 CCTV 확인 필요", message_thread_id=thread
    )
    await client.send_photo(
        haeun.id,
        staff_chat,
        tiny_png(rgb=(0, 0, 255)),
        caption="대피 경로",
        message_thread_id=thread,
    )
    await client.send_location(haeun.id, staff_chat, 37.5665, 126.978, message_thread_id=thread)
    await app.settle()

    to_citizen = await bot_messages(app, citizen.id)
    texts = [text_of(message) for message in to_citizen]
    assert any("소방차가 출동했습니다" in text and "상황실" in text for text in texts)
    assert not any("통화 중" in text or "CCTV" in text for text in texts)
    assert any("photo" in message and "대피 경로" in text_of(message) for message in to_citizen)
    assert any("location" in message for message in to_citizen)

    await client.send_text(citizen.id, citizen.id, "1층 계단으로 나왔어요")
    await client.send_photo(citizen.id, citizen.id, tiny_png(rgb=(200, 0, 0)))
    await client.send_location(citizen.id, citizen.id, 37.5664, 126.9781)
    await app.settle()
    shown = await topic_messages(app, thread)
    from_bot = [message for message in shown if message.get("from", {}).get("is_bot")]
    assert any("1층 계단으로 나왔어요" in text_of(message) for message in from_bot)
    assert sum(1 for message in from_bot if "photo" in message) >= 1
    assert sum(1 for message in from_bot if "location" in message) >= 2  # map pin + relayed one


async def test_the_first_answer_to_a_citizen_shows_in_progress_on_the_card(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    taken = await card(app, thread)
    await press(app, haeun.id, taken, button_data(taken, "st:take:"))
    assert "상태 접수됨" in text_of(await card(app, thread))

    await app.client.send_text(
        haeun.id, app.world.staff_chat_id, "소방차가 출동했습니다", message_thread_id=thread
    )
    await app.settle()

    status_line = text_of(await card(app, thread)).splitlines()[1]
    assert "상태 처리 중" in status_line, status_line


async def test_a_voice_note_and_a_document_sent_before_the_topic_opened_reach_it(
    app: E2E,
) -> None:
    citizen = await app.citizen("음성신고", "ko")
    client, chat = app.client, citizen.id
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_document(
        citizen.id, chat, b"%PDF-1.4 plan", "plan.pdf", mime_type="application/pdf"
    )
    await client.send_voice(citizen.id, chat, b"OggS voice", duration=4)  # files the report
    await app.settle()

    (topic,) = await topics(app)
    shown = await topic_messages(app, int(topic["message_thread_id"]))
    voices = [message for message in shown if "voice" in message]
    documents = [message for message in shown if "document" in message]
    assert len(voices) == 1 and len(documents) == 1
    assert documents[0]["document"]["file_name"] == "plan.pdf"
    assert all("R-" in text_of(message) for message in voices + documents)


async def test_a_joining_reports_voice_note_reaches_the_topic(app: E2E) -> None:
    await report_fire(app)
    second = await app.citizen("두번째", "en")
    await app.client.send_voice(second.id, second.id, b"OggS smoke", caption="Fire, smoke")
    await app.client.send_location(second.id, second.id, *CITY_HALL)
    await app.settle()

    (topic,) = await topics(app)
    shown = await topic_messages(app, int(topic["message_thread_id"]))
    (voice,) = [message for message in shown if "voice" in message]
    assert "R-" in text_of(voice)


async def test_a_staff_answer_corrected_in_the_topic_reaches_the_citizens_who_had_it(
    app: E2E,
) -> None:
    """Staff fixed a wrong instruction by editing their message; the citizen kept the wrong one.

    The correction goes to whoever got the message (a reply: that citizen only), each in their
    language; an internal note edited stays internal.
    """
    await seed_staff(app)
    korean = await report_fire(app)
    english = await app.citizen("Sarah", "en")
    await app.client.send_text(english.id, english.id, "Fire on the third floor, smoke everywhere")
    await app.client.send_location(english.id, english.id, *CITY_HALL)
    await app.settle()
    await app.client.send_text(english.id, english.id, "I am on the roof")
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    shown = await topic_messages(app, thread)
    (from_sarah,) = [m for m in shown if "I am on the roof" in text_of(m)]
    wrong = await app.client.send_text(
        haeun.id, chat, "3번 출구로 나오세요", message_thread_id=thread
    )
    to_sarah = await app.client.send_photo(
        haeun.id,
        chat,
        tiny_png(),
        caption="Exit 3 <here> & wait",
        message_thread_id=thread,
        reply_to_message_id=from_sarah["message_id"],
    )
    note = await app.client.send_text(haeun.id, chat, "! 3번 출구 확인", message_thread_id=thread)
    await app.settle()
    heard = {person.id: len(await bot_texts(app, person.id)) for person in (korean, english)}

    await app.client.edit_text(haeun.id, chat, wrong["message_id"], "4번 출구로 나오세요")
    await app.client.edit_caption(haeun.id, chat, to_sarah["message_id"], "Exit 4 <here> & wait")
    await app.client.edit_text(haeun.id, chat, note["message_id"], "! 4번 출구 확인")
    await app.settle()

    korean_new = (await bot_texts(app, korean.id))[heard[korean.id] :]
    english_new = (await bot_texts(app, english.id))[heard[english.id] :]
    assert len(korean_new) == 1 and "고쳤습니다" in korean_new[0]
    assert korean_new[0].endswith("4번 출구로 나오세요")
    assert len(english_new) == 2 and all("corrected" in text for text in english_new)
    assert english_new[0].endswith("4번 출구로 나오세요")
    assert english_new[1].endswith("Exit 4 <here> & wait")
    assert not any("확인" in text for text in korean_new + english_new)

    everyone = await app.client.send_text(
        haeun.id, chat, "/all 1층에서 대기", message_thread_id=thread
    )
    await app.settle()
    await app.client.edit_text(haeun.id, chat, everyone["message_id"], "/all 2층에서 대기")
    await app.settle()
    for person in (korean, english):
        assert (await bot_texts(app, person.id))[-1].endswith("\n2층에서 대기")


async def test_a_reply_to_the_words_of_a_report_that_joined_answers_that_citizen_only(
    app: E2E,
) -> None:
    """A report joining an open incident is posted with its words; a reply to them went to
    every citizen of the incident, not to the one who wrote them."""
    await seed_staff(app)
    first = await report_fire(app)
    second = await app.citizen("Sarah", "en")
    await app.client.send_text(second.id, second.id, "Fire on the third floor, I am trapped")
    await app.client.send_photo(second.id, second.id, tiny_png(), caption="the corridor")
    await app.client.send_location(second.id, second.id, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    shown = await topic_messages(app, thread)
    (words,) = [m for m in shown if "I am trapped" in text_of(m)]
    (photo,) = [m for m in shown if m.get("photo")]
    pin = [m for m in shown if m.get("location")][-1]

    for number, joined in enumerate((words, photo, pin)):
        heard = {person.id: len(await bot_texts(app, person.id)) for person in (first, second)}
        await app.client.send_text(
            app.world.person("정하은").id,
            app.world.staff_chat_id,
            f"Stay by the window, firefighters are coming ({number})",
            message_thread_id=thread,
            reply_to_message_id=joined["message_id"],
        )
        await app.settle()

        assert len(await bot_texts(app, first.id)) == heard[first.id], number
        (answer,) = (await bot_texts(app, second.id))[heard[second.id] :]
        assert answer.endswith(f"firefighters are coming ({number})")


async def test_audio_voice_video_note_and_sticker_from_staff_reach_the_citizen(app: E2E) -> None:
    """Every kind a citizen can play is copied to them; captions are signed like a photo's."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    staff_chat, haeun = app.world.staff_chat_id, app.world.person("정하은")
    client = app.client

    await client.send_audio(
        haeun.id,
        staff_chat,
        b"ID3 alarm",
        file_name="대피방송.mp3",
        caption="대피 방송입니다",
        message_thread_id=thread,
    )
    await client.send_voice(haeun.id, staff_chat, b"OggS voice", message_thread_id=thread)
    await client.send_video_note(haeun.id, staff_chat, b"\0\0\0 ftypmp4", message_thread_id=thread)
    await client.send_sticker(haeun.id, staff_chat, tiny_png(8, 8), message_thread_id=thread)
    await app.settle()

    to_citizen = await bot_messages(app, citizen.id)
    (audio,) = [message for message in to_citizen if "audio" in message]
    assert audio["audio"]["file_name"] == "대피방송.mp3"
    assert "상황실" in text_of(audio) and "대피 방송입니다" in text_of(audio)
    assert sum(1 for message in to_citizen if "voice" in message) == 1
    assert sum(1 for message in to_citizen if "video_note" in message) == 1
    assert sum(1 for message in to_citizen if "sticker" in message) == 1
    shown = await topic_messages(app, thread)
    assert not any("보내지 않았습니다" in text_of(message) for message in shown)


async def test_what_cannot_be_relayed_is_not_sent_and_the_topic_is_told(app: E2E) -> None:
    """A dice thrown in the topic reaches no citizen, and staff read that it was not sent."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    before = len(await bot_messages(app, citizen.id))

    await app.client.send_dice(haeun.id, app.world.staff_chat_id, message_thread_id=thread)
    await app.settle()

    assert len(await bot_messages(app, citizen.id)) == before
    shown = await topic_messages(app, thread)
    warnings = [
        message
        for message in shown
        if message.get("from", {}).get("is_bot")
        and "시민에게 보내지 않았습니다" in text_of(message)
    ]
    assert len(warnings) == 1
