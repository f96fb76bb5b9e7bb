"""Shared pieces for the sandbox tests: an aiogram Bot pointed at the sandbox, a small world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

TOKEN = "123456:TEST"
STAFF_RIGHTS = {
    "can_manage_topics": True,
    "can_pin_messages": True,
    "can_delete_messages": True,
    "can_invite_users": True,
    "can_restrict_members": True,
}


def make_bot(server: SandboxServer, token: str = TOKEN) -> Bot:
    """Return an aiogram Bot that talks to the sandbox over HTTP."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    return Bot(token, session=session)


@dataclass
class World:
    """A bot, two citizens and a staff forum supergroup."""

    bot: Bot
    client: SandboxClient
    me: dict[str, Any]
    alice: dict[str, Any]
    bob: dict[str, Any]
    staff: dict[str, Any]


@pytest.fixture
async def bot(sandbox: SandboxServer, sandbox_client: SandboxClient) -> AsyncIterator[Bot]:
    """An aiogram Bot registered in the sandbox as @jikimi_bot."""
    await sandbox_client.create_bot(token=TOKEN, username="jikimi_bot", first_name="Jikimi")
    bot = make_bot(sandbox)
    yield bot
    await bot.session.close()


@pytest.fixture
async def world(bot: Bot, sandbox_client: SandboxClient) -> World:
    """Alice (started the bot), Bob (did not) and a forum supergroup with the bot as admin."""
    client = sandbox_client
    alice = await client.create_user(first_name="Alice", language_code="ko")
    bob = await client.create_user(first_name="Bob", language_code="en", username="bob_k")
    staff = await client.create_supergroup(
        title="Situation room",
        is_forum=True,
        bot_token=TOKEN,
        bot_rights=STAFF_RIGHTS,
        members=[bob["id"]],
        admins=[alice["id"]],
    )
    await client.start_bot(alice["id"], TOKEN)
    me = await client.call("users")
    return World(
        bot=bot,
        client=client,
        me=next(u for u in me if u["is_bot"]),
        alice=alice,
        bob=bob,
        staff=staff,
    )
