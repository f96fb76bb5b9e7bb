"""The citizen routers behind the real middlewares, fed by the sandbox: what lands in the outbox.

The sender is not involved: these tests read the outbox rows the handlers committed, so they
check the handlers and middlewares alone (the end-to-end tests cover delivery).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import SecretStr
from sqlmodel import col, select

import handlers.citizen
from bot.media import MediaPrefetchMiddleware
from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.language import LanguageMiddleware
from bot.settings import ReportSettings, Settings
from sandbox.client import SandboxClient
from sandbox.images import tiny_png
from situation.clock import Clock
from storage.models.citizens import Citizen
from storage.models.outbox import OutboxMessage
from storage.models.reports import Report, ReportMedia

TOKEN = "7000000099:citizen-router-test-token"


@dataclass
class Harness:
    bot: Bot
    dispatcher: Dispatcher
    client: SandboxClient
    session_factory: Any
    settings: Settings
    offset: int = 0

    async def pump(self) -> int:
        """Feed every pending sandbox update to the dispatcher, one after another."""
        handled = 0
        while True:
            updates = await self.bot.get_updates(offset=self.offset, timeout=0)
            if not updates:
                return handled
            for update in updates:
                await self.dispatcher.feed_update(self.bot, update)
                self.offset = update.update_id + 1
                handled += 1

    async def outbox(self, chat_id: int) -> list[dict[str, Any]]:
        async with self.session_factory() as session:
            rows = await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == chat_id)
                .order_by(col(OutboxMessage.id))
            )
            return [dict(row.payload, kind=row.kind) for row in rows.all()]


@pytest.fixture
async def harness(
    sandbox: Any, sandbox_client: SandboxClient, session_factory: Any, tmp_path: Path
) -> AsyncIterator[Harness]:
    await sandbox_client.create_bot(token=TOKEN, username="jikimi_router_bot")
    settings = Settings(media_dir=tmp_path / "media", default_language="ko")
    settings.telegram.token = SecretStr(TOKEN)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    dispatcher = Dispatcher(settings=settings, clock=Clock())
    dispatcher.update.outer_middleware(
        MediaPrefetchMiddleware(ReportSettings(max_photo_bytes=1024 * 1024))
    )
    dispatcher.update.outer_middleware(DatabaseMiddleware(session_factory))
    dispatcher.update.outer_middleware(LanguageMiddleware(default=settings.default_language))
    dispatcher.include_routers(*handlers.citizen.get_routers())
    try:
        yield Harness(bot, dispatcher, sandbox_client, session_factory, settings)
    finally:
        await bot.session.close()


async def test_start_sends_welcome_and_consent_in_the_users_language(harness: Harness) -> None:
    user = await harness.client.create_user("Sarah", language_code="en-US")
    await harness.client.start_bot(user["id"], bot_token=TOKEN)
    await harness.pump()
    rows = await harness.outbox(user["id"])
    assert "does not replace a 119 or 112 call" in rows[0]["text"]
    assert rows[1]["buttons"][0][0]["data"] == "ccn:accept"


async def test_text_photo_location_become_one_report(harness: Harness) -> None:
    user = await harness.client.create_user("민지", language_code="ko")
    uid = user["id"]
    await harness.client.send_text(uid, uid, "주방에서 불이 났어요", bot_token=TOKEN)
    await harness.client.send_photo(uid, uid, tiny_png(), caption="연기", bot_token=TOKEN)
    await harness.client.send_location(uid, uid, 37.5663, 126.9779, bot_token=TOKEN)
    assert await harness.pump() == 3
    async with harness.session_factory() as session:
        citizen = (
            await session.exec(select(Citizen).where(col(Citizen.telegram_user_id) == uid))
        ).one()
        report = (
            await session.exec(select(Report).where(col(Report.citizen_id) == citizen.id))
        ).one()
        media = (await session.exec(select(ReportMedia))).one()
    assert report.status == "filed" and report.scenario == "fire"
    assert report.text == "주방에서 불이 났어요\n연기" and report.district_name == "중구"
    assert media.status == "stored"
    assert (harness.settings.media_dir / (media.path or "")).read_bytes() == tiny_png()
    rows = await harness.outbox(uid)
    assert "119" in rows[0]["text"] and any(report.reference in r["text"] for r in rows)


async def test_redelivered_update_changes_nothing(harness: Harness) -> None:
    user = await harness.client.create_user("재전송", language_code="ko")
    uid = user["id"]
    await harness.client.send_text(uid, uid, "도로에 싱크홀이 생겼어요", bot_token=TOKEN)
    updates = await harness.bot.get_updates(timeout=0)
    for update in [*updates, *updates]:
        await harness.dispatcher.feed_update(harness.bot, update)
    async with harness.session_factory() as session:
        reports = (await session.exec(select(Report))).all()
    assert len(reports) == 1 and reports[0].message_count == 1


async def test_manual_page_button_edits_the_message(harness: Harness) -> None:
    user = await harness.client.create_user("페이지", language_code="ko")
    uid = user["id"]
    await harness.client.send_text(
        uid, uid, "화재 대피 방법 알려주세요 불이 났어요", bot_token=TOKEN
    )
    await harness.pump()
    rows = await harness.outbox(uid)
    manual = next(
        r for r in rows if r.get("buttons") and r["buttons"][0][0]["data"].startswith("cmp:")
    )
    second = manual["buttons"][0][1]["data"]
    # Deliver the manual as the sender would, so there is a message to press a button on.
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b["text"], callback_data=b["data"]) for b in row]
            for row in manual["buttons"]
        ]
    )
    sent = await harness.bot.send_message(uid, "page 1", reply_markup=keyboard)
    press = asyncio.create_task(
        harness.client.press_button(uid, uid, sent.message_id, second, timeout=5, bot_token=TOKEN)
    )
    while not press.done():
        await harness.pump()
        await asyncio.sleep(0.05)
    assert press.result()["answered"] is True
    edit = (await harness.outbox(uid))[-1]
    assert edit["kind"] == "edit_text" and edit["message_id"] == sent.message_id
    assert edit["buttons"][0][1]["text"].startswith("•")


async def test_commands_come_by_text_only_and_reports_pass_them_by(harness: Harness) -> None:
    """A command answers from a text; a photo captioned like a command is a report's photo."""
    user = await harness.client.create_user("명령", language_code="ko")
    uid = user["id"]
    await harness.client.send_text(uid, uid, "/help", bot_token=TOKEN)
    await harness.client.send_photo(uid, uid, tiny_png(), caption="/help", bot_token=TOKEN)
    assert await harness.pump() == 2
    help_text, *answers = await harness.outbox(uid)
    assert "/new" in help_text["text"] and all("/new" not in row["text"] for row in answers)
    async with harness.session_factory() as session:
        (report,) = (await session.exec(select(Report))).all()
        (media,) = (await session.exec(select(ReportMedia))).all()
    assert report.text == "/help" and media.report_id == report.id and media.status == "stored"

    await harness.client.send_text(uid, uid, "계단에 연기가 차요 /help", bot_token=TOKEN)
    assert await harness.pump() == 1
    async with harness.session_factory() as session:
        (report,) = (await session.exec(select(Report))).all()
    assert report.text == "/help\n계단에 연기가 차요 /help"


async def test_an_unknown_command_with_words_is_a_report_and_alone_gets_help(
    harness: Harness,
) -> None:
    user = await harness.client.create_user("Lift", language_code="en")
    uid = user["id"]
    await harness.client.send_text(uid, uid, "/foo", bot_token=TOKEN)
    assert await harness.pump() == 1
    (help_text,) = await harness.outbox(uid)
    assert "How to report" in help_text["text"]

    await harness.client.send_text(uid, uid, "/119 people trapped in elevator", bot_token=TOKEN)
    assert await harness.pump() == 1
    _, urgent, *answers = await harness.outbox(uid)
    assert "119" in urgent["text"] and urgent["text"] != help_text["text"]
    async with harness.session_factory() as session:
        (report,) = (await session.exec(select(Report))).all()
    assert report.text == "/119 people trapped in elevator"
    assert report.urgent and report.scenario == "elevator" and report.status == "filed"
    assert any(report.reference in row["text"] for row in answers)
