"""End to end: a citizen is answered in the language they write, unless they chose one with /lang.

A foreign resident with a Korean phone who writes English gets the English manual and the
English 119 prompt, and the later prompts stay English; a /lang choice always wins; short or
mixed texts keep the language the citizen already has.
"""

from __future__ import annotations

import html
import re
from typing import Any

from sqlmodel import col, select

from manuals.render import render_urgent_prompt
from situation.texts import render
from storage.models.citizens import Citizen
from tests.e2e.citizen_helpers import CITY_HALL, bot_messages, bot_texts, reports_of, settle
from tests.e2e.conftest import E2E


def manual_pages(messages: list[dict[str, Any]]) -> list[str]:
    """Return the first page button of every manual among the messages (``cmp:slug:1:lang``)."""
    pages = []
    for message in messages:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        data = [b.get("callback_data", "") for row in rows for b in row]
        pages += [d for d in data if d.startswith("cmp:") and d.split(":")[2] == "1"]
    return pages


def shown(markup: str) -> str:
    """Return how a chat shows an HTML message (tags gone, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


async def citizen_row(app: E2E, user_id: int) -> Citizen:
    """Return the citizen row of a Telegram user."""
    async with app.runtime.session_factory() as session:
        query = select(Citizen).where(col(Citizen.telegram_user_id) == user_id)
        return (await session.exec(query)).one()


async def test_english_from_a_korean_phone_is_answered_in_english_and_remembered(
    app: E2E,
) -> None:
    citizen = await app.citizen("Tom", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "There is a fire in my building")
    await settle(app, chat)

    texts = await bot_texts(app, chat)
    assert texts[0] == shown(render_urgent_prompt(("fire",), "en"))
    assert manual_pages(await bot_messages(app, chat)) == ["cmp:fire:1:en"]
    assert shown(render("en", "citizen_ask_where")) in texts[-1]
    (report,) = await reports_of(app, citizen.id)
    assert report.language == "en" and report.scenario == "fire"
    row = await citizen_row(app, citizen.id)
    assert row.language == "en" and not row.language_chosen

    # Remembered: the next answers are English, also to a location and to a short text.
    before = len(texts)
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "3층")
    await settle(app, chat)
    later = (await bot_texts(app, chat))[before:]
    assert later and later[0].startswith("📍 Location received")
    assert all("접수" not in text and "위치를" not in text for text in later)


async def test_korean_from_an_english_phone_is_answered_in_korean(app: E2E) -> None:
    citizen = await app.citizen("Minji", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "아파트 복도에 연기가 가득해요")
    await settle(app, chat)
    texts = await bot_texts(app, chat)
    assert texts[0] == shown(render_urgent_prompt(("smoke",), "ko"))
    assert manual_pages(await bot_messages(app, chat)) == ["cmp:fire:1:ko"]
    assert (await citizen_row(app, citizen.id)).language == "ko"


async def test_a_lang_choice_wins_over_the_language_written(app: E2E) -> None:
    citizen = await app.citizen("Choice", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "/lang 한국어")
    await settle(app, chat)
    before = len(await bot_messages(app, chat))
    await client.send_text(citizen.id, chat, "There is a fire in my building")
    await settle(app, chat)
    answers = (await bot_messages(app, chat))[before:]
    assert answers[0]["text"] == shown(render_urgent_prompt(("fire",), "ko"))
    assert manual_pages(answers) == ["cmp:fire:1:ko"]
    row = await citizen_row(app, citizen.id)
    assert row.language == "ko" and row.language_chosen


async def test_short_or_mixed_texts_keep_the_current_language(app: E2E) -> None:
    citizen = await app.citizen("혼합", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "fire 불났어요")
    await settle(app, chat)
    assert manual_pages(await bot_messages(app, chat)) == ["cmp:fire:1:ko"]
    assert (await citizen_row(app, citizen.id)).language is None  # nothing was clear

    other = await app.citizen("Short", "en")
    await client.send_text(other.id, other.id, "There is a fire in my building")
    await settle(app, other.id)
    before = len(await bot_messages(app, other.id))
    await client.send_text(other.id, other.id, "/new")
    await client.send_text(other.id, other.id, "불났다")  # too short to tell: stays English
    await settle(app, other.id)
    answers = (await bot_messages(app, other.id))[before:]
    assert shown(render_urgent_prompt(("fire",), "en")) in [m.get("text") for m in answers]
    assert manual_pages(answers) == ["cmp:fire:1:en"]
    assert (await citizen_row(app, other.id)).language == "en"


async def test_a_forwarded_text_does_not_change_the_citizens_language(app: E2E) -> None:
    """What a citizen forwards was written by someone else: a Korean citizen forwarding an
    English post is still answered in Korean, and an English one forwarding Korean news in
    English; neither is remembered."""
    citizen = await app.citizen("전달", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요 도와주세요")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "/new")
    await settle(app, chat)
    before = len(await bot_messages(app, chat))
    await client.send_forwarded(
        citizen.id,
        chat,
        "channel",
        text="Flooding reported near City Hall station, please avoid the area",
        origin_name="City News",
    )
    await settle(app, chat)
    answers = [m.get("text") or "" for m in (await bot_messages(app, chat))[before:]]
    assert answers and all(re.search("[가-힣]", text) for text in answers)
    assert (await citizen_row(app, citizen.id)).language == "ko"

    other = await app.citizen("Tom", "en")
    await client.send_forwarded(
        other.id,
        other.id,
        "channel",
        text="시청역 근처 도로가 침수되었습니다",
        origin_name="동네소식",
    )
    await settle(app, other.id)
    answers = [m.get("text") or "" for m in await bot_messages(app, other.id)]
    assert answers and not any(re.search("[가-힣]", text) for text in answers)
    assert (await citizen_row(app, other.id)).language is None
