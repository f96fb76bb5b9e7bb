"""End to end: a contact a citizen shares (a callback number, someone trapped) reaches staff."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.logging import RedactingFormatter
from bot.settings import Settings
from storage.models.reports import ReportMessage
from tests.e2e.citizen_helpers import CITY_HALL, bot_texts, reports_of, settle
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import seed_staff, text_of, topic_messages, topics

NUMBER = "+82-10-1234-5678"


async def staff_texts(app: E2E) -> list[str]:
    """Return what the bot showed in the only incident topic, oldest first."""
    (topic,) = await topics(app)
    messages = await topic_messages(app, int(topic["message_thread_id"]))
    return [text_of(m) for m in messages if m["from"]["is_bot"]]


async def messages_of(app: E2E, report_id: int | None) -> list[ReportMessage]:
    """Return a report's messages, oldest first."""
    async with app.runtime.session_factory() as session:
        rows = await session.exec(
            select(ReportMessage)
            .where(col(ReportMessage.report_id) == report_id)
            .order_by(col(ReportMessage.id))
        )
        return list(rows.all())


async def test_a_contact_during_a_report_is_kept_and_shown_to_staff(
    app: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await seed_staff(app)
    citizen = await app.citizen("가스신고", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "골목에서 가스 냄새가 심하게 나요")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()
    before = len(await bot_texts(app, chat))
    app.clock.advance(timedelta(minutes=1))  # past the flood's acknowledgement interval

    await client.send_contact(citizen.id, chat, NUMBER, first_name="김영희")
    await app.settle()
    await settle(app, chat)

    (report,) = await reports_of(app, citizen.id)
    answers = (await bot_texts(app, chat))[before:]
    assert len(answers) == 1
    assert "죄송합니다" not in answers[0]
    assert report.reference in answers[0] and NUMBER in answers[0]
    contacts = [m for m in await messages_of(app, report.id) if m.kind == "contact"]
    assert [m.text for m in contacts] == [f"김영희: {NUMBER}"]
    assert report.text == "골목에서 가스 냄새가 심하게 나요"  # a name is no words to classify
    shown = [t for t in await staff_texts(app) if "📇" in t]
    assert len(shown) == 1
    assert "시민이 연락처를 보냈습니다" in shown[0] and f"김영희: {NUMBER}" in shown[0]
    assert report.reference in shown[0]
    # The number is never logged: every line goes through the redacting formatter.
    formatter = RedactingFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "1234-5678" not in logged and "12345678" not in logged


async def test_a_contact_alone_starts_a_report_staff_see_with_it(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("연락처만", "ko")
    client, chat = app.client, citizen.id
    await client.send_contact(citizen.id, chat, "01098765432", first_name="이웃")
    await settle(app, chat)

    (report,) = await reports_of(app, citizen.id)
    assert report.status == "draft"
    texts = await bot_texts(app, chat)
    assert not any("죄송합니다" in t for t in texts)
    assert report.reference in texts[0] and "01098765432" in texts[0]
    assert "어디" in texts[-1] or "위치" in texts[-1]  # asked where, like a photo alone
    (message,) = await messages_of(app, report.id)
    assert (message.kind, message.text) == ("contact", "이웃: 01098765432")

    await client.send_location(citizen.id, chat, *CITY_HALL)
    await client.send_text(citizen.id, chat, "이 번호 주인이 엘리베이터에 갇혀 있어요")
    await settle(app, chat)
    await app.settle()

    (report,) = await reports_of(app, citizen.id)
    assert report.status == "filed" and report.incident_id is not None
    shown = [t for t in await staff_texts(app) if "📇" in t]
    assert len(shown) == 1 and "이웃: 01098765432" in shown[0]


def _english_room(settings: Settings) -> None:
    settings.default_language = "en"


@pytest.mark.bot_settings.with_args(_english_room)
async def test_a_contact_reads_in_english_for_an_english_room(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("Caller", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "Strong smell of gas in the alley")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()
    app.clock.advance(timedelta(minutes=1))

    await client.send_contact(citizen.id, chat, "+82 10 5555 0101", first_name="Minho")
    await app.settle()
    await settle(app, chat)

    answers = await bot_texts(app, chat)
    assert "Added to report" in answers[-1] and "Sorry" not in answers[-1]
    shown = [t for t in await staff_texts(app) if "📇" in t]
    assert len(shown) == 1
    assert "The citizen shared a contact" in shown[0] and "Minho: +82 10 5555 0101" in shown[0]
