"""End to end: what citizens and staff write reaches the other side as typed and whole, however
long and whatever HTML-looking characters it holds, within Telegram's limits as Telegram counts
them (the sandbox parses and counts like Telegram)."""

from __future__ import annotations

from typing import Any

from sandbox.images import tiny_png
from situation.limits import CUT, utf16_len
from tests.e2e.citizen_helpers import CITY_HALL, bot_messages, reports_of
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    card,
    failed_rows,
    report_fire,
    seed_staff,
    text_of,
    topic_messages,
    topics,
)

HTML_ISH = "연기 <b> & </script> 3층"


def of_units(pattern: str, units: int) -> str:
    """Repeat ``pattern`` to exactly ``units`` UTF-16 units (topped up with "끝")."""
    text = (pattern * (units // utf16_len(pattern))).strip()
    while utf16_len(text) > units:
        text = text[:-1].strip()
    return text + "끝" * (units - utf16_len(text))


# Korean, spaces and emoji (two units each): the longest text a citizen can send
LONG = of_units("불이 번져요 🔥 ", 4096)


def rejoin(texts: list[str], prefix: str) -> str:
    """Return what messages that each start with ``prefix`` say together, cut marks removed."""
    assert texts and all(text.startswith(prefix) for text in texts), texts
    said = [text.removeprefix(prefix) for text in texts]
    for index in range(len(said) - 1):
        assert said[index].endswith(CUT) and said[index + 1].startswith(CUT)
        said[index] = said[index].removesuffix(CUT)
        said[index + 1] = said[index + 1].removeprefix(CUT)
    return "".join(said)


def same_words(one: str, other: str) -> bool:
    """Whether two texts say the same (a cut at a space may drop that space)."""
    return one.split() == other.split() or "".join(one.split()) == "".join(other.split())


async def _opened(app: E2E) -> tuple[Any, int, str]:
    """A citizen reported a fire: return the citizen, the topic's thread and their label."""
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    (report,) = await reports_of(app, citizen.id)
    return citizen, int(topic["message_thread_id"]), f"👤 {report.reference}: "


async def _said_in_topic(app: E2E, thread: int, label: str, after: int) -> list[dict[str, Any]]:
    """Return the bot's messages in the topic after message ``after`` that carry ``label``."""
    return [
        message
        for message in await topic_messages(app, thread)
        if message["message_id"] > after and text_of(message).startswith(label)
    ]


async def _last_id(app: E2E, thread: int) -> int:
    return int((await topic_messages(app, thread))[-1]["message_id"])


async def test_a_follow_up_photo_with_an_html_ish_caption_reaches_the_topic_as_typed(
    app: E2E,
) -> None:
    citizen, thread, label = await _opened(app)
    after = await _last_id(app, thread)
    await app.client.send_photo(citizen.id, citizen.id, tiny_png(), caption=HTML_ISH)
    await app.settle()

    (copy,) = await _said_in_topic(app, thread, label, after)
    assert "photo" in copy and copy["caption"] == f"{label}{HTML_ISH}"
    entities = copy.get("caption_entities", [])
    assert not any(entity["type"] == "bold" for entity in entities)  # <b> stayed text
    assert await failed_rows(app) == []


async def test_a_follow_up_of_4096_units_reaches_the_topic_whole(app: E2E) -> None:
    assert utf16_len(LONG) == 4096 and "🔥" in LONG
    citizen, thread, label = await _opened(app)
    after = await _last_id(app, thread)
    await app.client.send_text(citizen.id, citizen.id, LONG)
    await app.settle()

    parts = [text_of(message) for message in await _said_in_topic(app, thread, label, after)]
    assert len(parts) == 2 and all(utf16_len(part) <= 4096 for part in parts)
    assert same_words(rejoin(parts, label), LONG)
    assert await failed_rows(app) == []


async def test_4096_ampersands_reach_the_topic_as_4096_ampersands(app: E2E) -> None:
    citizen, thread, label = await _opened(app)
    after = await _last_id(app, thread)
    await app.client.send_text(citizen.id, citizen.id, "&" * 4096)
    await app.settle()

    parts = [text_of(message) for message in await _said_in_topic(app, thread, label, after)]
    assert rejoin(parts, label) == "&" * 4096
    assert await failed_rows(app) == []


async def test_a_full_caption_arrives_with_its_photo_and_the_rest_right_after(app: E2E) -> None:
    caption = of_units("🔥 <i>3층</i> & ", 1024)
    citizen, thread, label = await _opened(app)
    after = await _last_id(app, thread)
    await app.client.send_photo(citizen.id, citizen.id, tiny_png(), caption=caption)
    await app.settle()

    copy, rest = await _said_in_topic(app, thread, label, after)
    assert "photo" in copy and "photo" not in rest
    assert utf16_len(copy["caption"]) <= 1024
    assert same_words(rejoin([text_of(copy), text_of(rest)], label), caption)
    assert await failed_rows(app) == []


async def test_a_first_report_of_4096_units_can_be_read_whole_in_the_topic(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("김민지", "ko")
    await app.client.send_text(citizen.id, citizen.id, LONG)
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)
    await app.settle()

    (topic,) = await topics(app)
    (report,) = await reports_of(app, citizen.id)
    label = f"👤 {report.reference}: "
    parts = [
        text_of(m) for m in await _said_in_topic(app, int(topic["message_thread_id"]), label, 0)
    ]
    assert same_words(rejoin(parts, label), LONG)
    assert await failed_rows(app) == []


async def test_staff_answers_reach_the_citizen_whole_with_html_characters(app: E2E) -> None:
    citizen, thread, _ = await _opened(app)
    haeun = app.world.person("정하은")
    staff_chat = app.world.staff_chat_id
    answer = of_units("<b>계단</b> & 🔥 ", 4096)
    before = len(await bot_messages(app, citizen.id))
    await app.client.send_text(haeun.id, staff_chat, answer, message_thread_id=thread)
    await app.settle()

    parts = [text_of(message) for message in (await bot_messages(app, citizen.id))[before:]]
    assert len(parts) == 2 and all(utf16_len(part) <= 4096 for part in parts)
    (header,) = {part.split("\n", 1)[0] for part in parts}
    assert same_words(rejoin(parts, header + "\n"), answer)

    caption = of_units("<i>대피 경로</i> & 🔥 ", 1024)
    before = len(await bot_messages(app, citizen.id))
    await app.client.send_photo(
        haeun.id, staff_chat, tiny_png(rgb=(0, 0, 255)), caption=caption, message_thread_id=thread
    )
    await app.settle()
    photo, rest = (await bot_messages(app, citizen.id))[before:]
    assert "photo" in photo and utf16_len(photo["caption"]) <= 1024
    shown = photo["caption"].split(": ", 1)[1] + text_of(rest).split("\n", 1)[1]
    assert same_words(shown.replace(CUT, ""), caption)
    assert await failed_rows(app) == []


async def test_a_long_edit_of_a_long_message_reaches_the_topic_whole(app: E2E) -> None:
    citizen, thread, label = await _opened(app)
    sent = await app.client.send_text(citizen.id, citizen.id, LONG)
    await app.settle()
    after = await _last_id(app, thread)
    edited = of_units("연기가 <b>계단</b>으로 & 🔥 ", 4096)
    await app.client.edit_text(citizen.id, citizen.id, int(sent["message_id"]), edited)
    await app.settle()

    assert await failed_rows(app) == []
    shown = [text_of(m) for m in await topic_messages(app, thread) if m["message_id"] > after]
    first, *rest = [text for text in shown if text.startswith(("✏️", label))]
    heading, before, now = first.split("\n")
    assert heading == f"✏️ {label.removesuffix(': ')} 메시지 수정"
    assert before.startswith("이전: 불이 번져요 🔥") and before.endswith(CUT)
    assert utf16_len(before) <= 8 + 300  # the old words, quoted in the room the new leave
    assert same_words(rejoin([label + now.removeprefix("지금: "), *rest], label), edited)
    assert all(utf16_len(text) <= 4096 for text in shown)


async def test_a_long_closing_note_reaches_topic_card_and_citizen_as_valid_messages(
    app: E2E,
) -> None:
    citizen, thread, _ = await _opened(app)
    haeun = app.world.person("정하은")
    command = "/close resolved "
    note = of_units("진화 완료 <i>잔불</i> & 🔥 ", 4096 - len(command))
    before = len(await bot_messages(app, citizen.id))
    await app.client.send_text(
        haeun.id, app.world.staff_chat_id, command + note, message_thread_id=thread
    )
    await app.settle()

    assert await failed_rows(app) == []
    closed = [text_of(m) for m in await topic_messages(app, thread) if "종결했습니다" in text_of(m)]
    (notice,) = closed
    assert "진화 완료 <i>잔불</i> & 🔥" in notice and utf16_len(notice) <= 4096
    the_card = await card(app, thread)
    assert "종결: 해결" in text_of(the_card) and text_of(the_card).count("잔불") < 200
    told = [text_of(message) for message in (await bot_messages(app, citizen.id))[before:]]
    said = "".join(told)
    assert "종결되었습니다" in told[0] and "감사합니다" in told[-1]
    assert same_words(
        said.split("상황실 메모: ", 1)[1].split("\n신고해", 1)[0].replace(CUT, ""), note
    )
    assert all(utf16_len(text) <= 4096 for text in told)
