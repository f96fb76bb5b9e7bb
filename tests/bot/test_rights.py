"""The start-up rights check finds exactly what is missing and tells the admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.app import create_bot
from bot.demo import BOT_RIGHTS
from bot.rights import announce_rights, check_rights
from bot.settings import Settings
from sandbox.client import SandboxClient
from situation.roles import seed_demo_staff
from situation.staffroom import RoomConfig
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage

TOKEN = "7000000009:RIGHTS-test-token-0000000000000000"


@pytest.fixture
async def bot(sandbox: Any, sandbox_client: SandboxClient) -> AsyncIterator[Any]:
    await sandbox_client.create_bot(token=TOKEN, username="rights_bot")
    settings = Settings()
    settings.telegram.api_base = sandbox.url
    settings.telegram.token = SecretStr(TOKEN)
    bot = create_bot(settings)
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_a_ready_forum_passes(bot: Any, sandbox_client: SandboxClient) -> None:
    chat = await sandbox_client.create_supergroup(
        "ready", is_forum=True, bot_token=TOKEN, bot_rights=BOT_RIGHTS
    )
    report = await check_rights(bot, int(chat["id"]))
    assert report.ok and report.missing == []


async def test_missing_forum_and_rights_are_named(bot: Any, sandbox_client: SandboxClient) -> None:
    rights = {**BOT_RIGHTS, "can_pin_messages": False, "can_delete_messages": False}
    chat = await sandbox_client.create_supergroup(
        "plain", is_forum=False, bot_token=TOKEN, bot_rights=rights
    )
    report = await check_rights(bot, int(chat["id"]))
    assert not report.ok and not report.is_forum and report.is_admin
    assert report.missing == ["can_pin_messages", "can_delete_messages"]


async def test_the_admins_are_told_precisely(
    bot: Any, sandbox_client: SandboxClient, session_factory: Any
) -> None:
    chat = await sandbox_client.create_supergroup(
        "member only", is_forum=True, bot_token=TOKEN, bot_admin=False
    )
    async with session_factory() as session, session.begin():
        await seed_demo_staff(session=session, world_staff=[(42, "관리자", "admin")])
    room = RoomConfig(chat_id=int(chat["id"]))
    report = await announce_rights(
        bot=bot, room=room, session_factory=session_factory, now=utcnow()
    )
    assert not report.is_admin and set(report.missing) == {
        "can_manage_topics",
        "can_pin_messages",
        "can_delete_messages",
    }
    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.chat_id for row in rows} == {int(chat["id"]), 42}
    text = rows[0].payload["text"]
    assert "관리자" in text and "can_manage_topics" in text and "can_pin_messages" in text


async def test_an_unknown_chat_is_reported(bot: Any) -> None:
    report = await check_rights(bot, -100999)
    assert not report.reachable and report.error
