"""End to end: /forget removes a citizen's personal data and keeps the anonymous incident."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.scheduler import run_citizen_timers
from sandbox.images import tiny_png
from situation import citizens
from storage.models.citizens import Citizen
from storage.models.reports import Report
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    all_incidents,
    bot_messages,
    bot_text,
    media_of,
    reports_of,
    settle,
)
from tests.e2e.conftest import E2E
from tests.fixtures.media import refuse_deleting_under


async def _report_with_photo(app: E2E, user_id: int, chat: int) -> tuple[Report, Path]:
    """Report a flood with a photo and a location; return the report and the stored photo."""
    client = app.client
    await client.send_text(user_id, chat, "도로가 침수됐어요 제 번호는 010-0000-0000")
    await client.send_photo(user_id, chat, tiny_png(rgb=(1, 2, 3)))
    await client.send_location(user_id, chat, *CITY_HALL)
    await settle(app, chat)
    (report,) = await reports_of(app, user_id)
    (media,) = await media_of(app, report.id)
    stored = Path(app.settings.media_dir) / (media.path or "")
    assert stored.exists()
    return report, stored


async def _forget(app: E2E, user_id: int, chat: int) -> None:
    """Send /forget and confirm it."""
    await app.client.send_text(user_id, chat, "/forget")
    await settle(app, chat)
    question = (await bot_messages(app, chat))[-1]
    yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await app.client.press_button(user_id, chat, question["message_id"], yes)
    await settle(app, chat)


async def _assert_forgotten(app: E2E, user_id: int, report: Report) -> None:
    assert await reports_of(app, user_id) == []  # no citizen has this Telegram id any more
    (kept,) = await media_of(app, report.id)
    assert kept.status == "purged" and kept.file_id is None
    (incident,) = await all_incidents(app)
    assert incident.report_count == 1 and incident.district_name == "중구"
    assert "삭제했습니다" in ((await bot_messages(app, user_id))[-1].get("text") or "")


async def test_forget_removes_personal_data(app: E2E) -> None:
    citizen = await app.citizen("지울사람", "ko")
    report, stored = await _report_with_photo(app, citizen.id, citizen.id)

    await _forget(app, citizen.id, citizen.id)

    await _assert_forgotten(app, citizen.id, report)
    (kept,) = await media_of(app, report.id)
    assert kept.path is None and kept.sha256 is None
    assert not stored.exists()


async def test_forget_interrupted_by_the_database_loses_no_file(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database drops after the erasure: rolled back, every file is still there to retry."""
    citizen = await app.citizen("끊김", "ko")
    report, stored = await _report_with_photo(app, citizen.id, citizen.id)
    forget = citizens.forget_citizen
    photo_there: list[bool] = []

    async def dropped_after_erasing(**kwargs: Any) -> Any:
        photo_there.append(stored.exists())
        summary = await forget(**kwargs)
        if len(photo_there) == 1:
            raise OperationalError("UPDATE citizen", {}, ConnectionResetError("connection lost"))
        return summary

    monkeypatch.setattr(citizens, "forget_citizen", dropped_after_erasing)
    await _forget(app, citizen.id, citizen.id)

    assert photo_there == [True, True]  # the retry found the rolled-back rows' file
    await _assert_forgotten(app, citizen.id, report)
    assert not stored.exists()


async def test_forget_whose_file_cannot_be_deleted_stays_done(
    app: E2E, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A file that cannot be deleted is logged; the data is erased and the citizen told so."""
    citizen = await app.citizen("잠긴파일", "ko")
    report, stored = await _report_with_photo(app, citizen.id, citizen.id)
    refuse_deleting_under(monkeypatch, Path(app.settings.media_dir))
    await _forget(app, citizen.id, citizen.id)

    await _assert_forgotten(app, citizen.id, report)
    assert "could not delete 1 erased media files" in caplog.text
    (kept,) = await media_of(app, report.id)
    assert kept.path is not None and stored.exists()  # the next purge deletes it


async def _known(app: E2E, user_id: int) -> bool:
    """Whether a citizen row still carries this Telegram user id."""
    async with app.runtime.session_factory() as session:
        statement = select(Citizen).where(col(Citizen.telegram_user_id) == user_id)
        return (await session.exec(statement)).one_or_none() is not None


async def test_a_quiet_citizen_is_forgotten_after_the_retention_period(app: E2E) -> None:
    """The bot's hourly purge drops the number and language of a citizen quiet for too long."""
    quiet = await app.citizen("조용한사람", "ko")
    await app.client.send_text(quiet.id, quiet.id, "/lang")
    await settle(app, quiet.id)
    question = (await bot_messages(app, quiet.id))[-1]
    english = question["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    await app.client.press_button(quiet.id, quiet.id, question["message_id"], english)
    await app.client.send_text(quiet.id, quiet.id, "The underpass is flooded")
    await settle(app, quiet.id)
    app.clock.advance(timedelta(days=20))
    recent = await app.citizen("최근신고", "ko")
    await app.client.send_text(recent.id, recent.id, "가로등이 쓰러졌어요")
    await settle(app, recent.id)
    app.clock.advance(timedelta(days=app.settings.retention_days - 19))

    service = app.runtime.dispatcher["scheduler_service"]
    await run_citizen_timers(service.context, app.clock.now())

    assert not await _known(app, quiet.id)
    assert await _known(app, recent.id)  # their report is within the retention period
    await app.client.send_text(quiet.id, quiet.id, "/myreports")
    await settle(app, quiet.id)
    # A new citizen now: nothing reported, and answered in Telegram's language again.
    assert "아직 신고하신 내역이 없습니다" in bot_text((await bot_messages(app, quiet.id))[-1])
    assert await _known(app, quiet.id)
