"""End to end: what a citizen forwards reaches staff saying where it came from."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.settings import Settings
from sandbox.images import tiny_png
from storage.models.reports import ReportMessage
from tests.e2e.citizen_helpers import CITY_HALL, reports_of
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import card, seed_staff, text_of, topic_messages, topics


async def staff_texts(app: E2E) -> list[str]:
    """Return what the bot showed in the only incident topic, oldest first."""
    (topic,) = await topics(app)
    messages = await topic_messages(app, int(topic["message_thread_id"]))
    return [text_of(m) for m in messages if m["from"]["is_bot"]]


async def card_text(app: E2E) -> str:
    """Return the text of the only incident's card."""
    (topic,) = await topics(app)
    return text_of(await card(app, int(topic["message_thread_id"])))


async def test_a_forwarded_channel_post_reaches_staff_as_forwarded(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("전달", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "하천 물이 넘치고 있어요")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()

    await client.send_forwarded(
        citizen.id,
        chat,
        "channel",
        text="청계천 범람, 시청역 침수 중이라고 합니다",
        origin_name="동네소식",
        origin_username="dongnenews",
    )
    await app.settle()

    assert "전달된 메시지 포함 (출처: 동네소식 (@dongnenews))" in await card_text(app)
    relayed = [t for t in await staff_texts(app) if "시청역 침수" in t and "우선순위" not in t]
    assert len(relayed) == 1
    assert "전달된 메시지 · 출처: 동네소식 (@dongnenews)" in relayed[0]
    (report,) = await reports_of(app, citizen.id)
    async with app.runtime.session_factory() as session:
        found = await session.exec(
            select(ReportMessage).where(col(ReportMessage.report_id) == report.id)
        )
        rows = [m for m in found.all() if m.forwarded_from]
    assert [(row.kind, row.forwarded_from) for row in rows] == [("text", "동네소식 (@dongnenews)")]


def _english_room(settings: Settings) -> None:
    settings.default_language = "en"


@pytest.mark.bot_settings.with_args(_english_room)
async def test_every_kind_of_origin_is_named_in_english_too(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("Forwarder", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "The river is flooding")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()
    friend = await app.citizen("Jisoo", "en")

    await client.send_forwarded(
        citizen.id, chat, "user", text="water up to the knees", origin_user_id=friend.id
    )
    await client.send_forwarded(
        citizen.id, chat, "hidden_user", text="bridge closed", origin_name="Hidden Person"
    )
    await client.send_forwarded(
        citizen.id,
        chat,
        "chat",
        photo=tiny_png(rgb=(4, 5, 6)),
        caption="photo from the group",
        origin_name="Neighbours",
        author_signature="admin",
    )
    await app.settle()

    texts = await staff_texts(app)
    assert "Includes forwarded messages (from Jisoo)" in await card_text(app)
    for words, origin in (
        ("water up to the knees", "Jisoo"),
        ("bridge closed", "Hidden Person"),
        ("photo from the group", "Neighbours (admin)"),
    ):
        (shown,) = [t for t in texts if words in t and "Priority" not in t]
        assert f"Forwarded from {origin}" in shown
