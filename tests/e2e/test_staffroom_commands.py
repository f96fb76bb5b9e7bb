"""End to end: staff commands in the supergroup — /history, /stats, /duty, /staff, /canned;
a caption is never a command."""

from __future__ import annotations

from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import all_incidents, bot_messages, bot_texts
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


async def test_commands_in_a_topic_and_in_general(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun, seoyeon = app.world.person("정하은"), app.world.person("이서연")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))

    await app.client.send_text(haeun.id, chat, "/canned on_the_way", message_thread_id=thread)
    await app.client.send_text(haeun.id, chat, "/note 현장 확인 중", message_thread_id=thread)
    await app.client.send_text(haeun.id, chat, "/history", message_thread_id=thread)
    await app.settle()
    assert any("출동 요청" in text for text in await bot_texts(app, citizen.id))
    history = [text_of(m) for m in await topic_messages(app, thread) if "처리 이력" in text_of(m)]
    assert history and all(a in history[-1] for a in ("opened", "take", "canned", "note"))

    await app.client.send_text(haeun.id, chat, "/stats")
    await app.client.send_text(haeun.id, chat, "/duty")
    await app.client.send_text(haeun.id, chat, "/staff add 777 lead 새 조장")  # not an admin
    await app.client.send_text(seoyeon.id, chat, "/staff add 778 staff 새 근무자")
    await app.settle()
    general = [text_of(m) for m in await app.client.messages(chat)]
    assert any("상황실 통계" in text and "사건 1건" in text for text in general)
    assert any("근무표가 설정되어 있지 않습니다" in text for text in general)
    assert any("관리자(admin)만" in text for text in general)  # 정하은 is staff, not admin
    members = [text for text in general if text.startswith("👥")]
    assert members and "새 근무자" in members[-1] and "새 조장" not in members[-1]


async def general_from_bot(app: E2E) -> list[dict[str, object]]:
    """Return what the bot posted in the staff supergroup's General topic."""
    shown = await app.client.messages(app.world.staff_chat_id)
    return [
        m
        for m in shown
        if m.get("from", {}).get("is_bot") and m.get("message_thread_id") in (None, 1)
    ]


async def test_a_photo_captioned_like_a_command_is_a_staff_message(app: E2E) -> None:
    """Commands count in text only: in a topic the photo goes to the citizen like any other."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    general_before = await general_from_bot(app)
    caption = "/close false_alarm 현장 사진입니다"
    await app.client.send_photo(
        haeun.id, chat, tiny_png(), caption=caption, message_thread_id=thread
    )
    for number, command in enumerate(["/stats", "/experts all", "/handbook"]):
        await app.client.send_photo(haeun.id, chat, tiny_png(rgb=(number, 9, 9)), caption=command)
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.status != "closed"
    assert any(
        "photo" in message and caption in text_of(message)
        for message in await bot_messages(app, citizen.id)
    )
    assert await general_from_bot(app) == general_before


async def test_stats_over_an_absurd_number_of_days_still_answers(app: E2E) -> None:
    """A period beyond ten years is read as ten years, not an error (before: no answer)."""
    await seed_staff(app)
    await report_fire(app)
    haeun = app.world.person("정하은")
    await app.client.send_text(haeun.id, app.world.staff_chat_id, "/stats 99999999999999999999")
    await app.settle()
    answers = [text_of(m) for m in await general_from_bot(app) if "상황실 통계" in text_of(m)]
    assert answers and "사건 1건" in answers[-1]


async def test_close_with_a_reason_and_no_note_closes_the_incident(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")

    await app.client.send_text(
        haeun.id, app.world.staff_chat_id, "/close false_alarm", message_thread_id=thread
    )
    await app.settle()

    (topic,) = await topics(app)
    assert topic["name"].startswith("✅") and topic.get("is_closed") is True
    assert "오인 신고" in text_of(await card(app, thread))
    assert any("종결" in text for text in await bot_texts(app, citizen.id))


async def test_close_reads_a_reason_spelled_with_a_hyphen_or_in_korean(app: E2E) -> None:
    """`/close false-alarm …` and `/close 중복 …` closed as "resolved" with the word as a note."""
    await seed_staff(app)
    first = await report_fire(app)
    second = await report_fire(app, "박서준", where=(37.4563, 126.7052))  # Incheon: its own topic
    threads = [int(topic["message_thread_id"]) for topic in await topics(app)]
    assert len(threads) == 2
    haeun = app.world.person("정하은")
    for thread, command in zip(
        threads,
        ["/close false-alarm 이웃집 굴뚝 연기", "/close 중복 다른 신고와 같은 건"],
        strict=True,
    ):
        await app.client.send_text(
            haeun.id, app.world.staff_chat_id, command, message_thread_id=thread
        )
    await app.settle()

    incidents = sorted(await all_incidents(app), key=lambda incident: incident.id)
    assert [incident.status for incident in incidents] == ["closed", "closed"]
    assert incidents[0].closing_note == "오인 신고: 이웃집 굴뚝 연기"
    assert incidents[1].closing_note == "중복: 다른 신고와 같은 건"
    assert any("이웃집 굴뚝 연기" in text for text in await bot_texts(app, first.id))
    assert any("다른 신고와 같은 건" in text for text in await bot_texts(app, second.id))


async def test_close_with_a_mistyped_reason_answers_the_usage_and_closes_nothing(
    app: E2E,
) -> None:
    """`/close 오보` or `/close duplcate` is a reason typed wrong, not a resolution's note."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun = app.world.person("정하은")
    before = await bot_texts(app, citizen.id)
    for command in ("/close 오보", "/close duplcate 같은 건물"):
        await app.client.send_text(
            haeun.id, app.world.staff_chat_id, command, message_thread_id=thread
        )
    await app.settle()

    (incident,) = await all_incidents(app)
    assert incident.status != "closed" and incident.closing_note is None
    assert await bot_texts(app, citizen.id) == before
    usages = [
        text_of(m) for m in await topic_messages(app, thread) if "종결하지 않았습니다" in text_of(m)
    ]
    assert len(usages) == 2
    assert all(
        name in usages[0] for name in ("해결", "오인 신고 (false_alarm)", "중복 (duplicate)")
    )


async def test_help_lists_the_staff_commands_where_it_is_asked(app: E2E) -> None:
    """`/help` in the staff room answered nothing: a newcomer had no way to find the commands."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    await app.client.send_text(haeun.id, chat, "/help")
    await app.client.send_text(haeun.id, chat, "/help", message_thread_id=thread)
    await app.settle()
    general = [text_of(m) for m in await general_from_bot(app)]
    in_topic = [text_of(m) for m in await topic_messages(app, thread)]
    for shown in (general, in_topic):
        helps = [text for text in shown if "상황실 명령" in text]
        assert len(helps) == 1
        assert all(c in helps[0] for c in ("/note", "/close", "/handbook", "/community"))
    assert not any("/help" in text for text in await bot_texts(app, citizen.id))


async def test_an_unknown_command_is_answered_where_it_was_typed(app: E2E) -> None:
    """A typo such as /clsoe got silence; another bot's command still gets none from us."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    chat = app.world.staff_chat_id
    haeun = app.world.person("정하은")
    before = len(await bot_texts(app, citizen.id))

    await app.client.send_text(haeun.id, chat, "/clsoe 화재 진압", message_thread_id=thread)
    await app.client.send_text(haeun.id, chat, "/weather@OtherBot")
    await app.client.send_text(haeun.id, chat, "/tocommunity 현장 사진 부탁드립니다")
    await app.settle()

    in_topic = [text_of(m) for m in await topic_messages(app, thread)]
    assert any(text.startswith("알 수 없는 명령입니다: /clsoe.") for text in in_topic)
    general = [text_of(m) for m in await general_from_bot(app)]
    assert not any("알 수 없는 명령" in text for text in general)  # not ours to answer
    assert "사건 토픽 안에서 사용해 주세요." in general  # known, but it works in a topic
    assert len(await bot_texts(app, citizen.id)) == before  # nothing reached the citizen
    (topic,) = await topics(app)
    assert not topic.get("is_closed")
