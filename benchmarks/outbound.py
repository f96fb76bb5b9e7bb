"""Outbound: the sender's sustained rate under Telegram's limits, and the 429s it causes.

The sandbox enforces Telegram's default limits (30 messages/s overall, 1/s per private chat
with a burst of 3, 20/min per group); the outbox holds ``messages`` texts for ``chats``
citizens plus a few staff notices for the staff group; the real :class:`bot.sender.Sender`
with the default :class:`bot.settings.SenderSettings` delivers them. We count every 429 the
sandbox answers (a well-behaved sender causes none) and the time to drain the outbox.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlmodel import col, func, select

from bot.sender import Sender
from bot.settings import SenderSettings
from sandbox.client import SandboxClient
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models.outbox import UNSETTLED, OutboxCreate, OutboxMessage, OutboxStatus, Priority
from storage.outbox import OutboxSignal, enqueue

TOKEN = "7000000003:OUTBOUND-benchmark-token-00000000000"


@dataclass
class OutboundResult:
    """The figures of one outbound run."""

    messages: int
    private_messages: int
    group_messages: int
    chats: int
    seconds: float
    sent: int
    failed: int
    sandbox_429: int
    sender_429: int
    limits: SenderSettings

    @property
    def rate(self) -> float:
        """Messages delivered per second while draining."""
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def floor_seconds(self) -> float:
        """The shortest time Telegram's limits allow for this load."""
        limits = self.limits
        overall = max(0.0, self.messages - limits.global_per_second) / limits.global_per_second
        group = max(0.0, self.group_messages - limits.group_burst) * 60 / limits.group_per_minute
        per_chat = self.private_messages / max(1, self.chats)
        private = max(0.0, per_chat - limits.private_burst) / limits.private_per_second
        return max(overall, group, private)


class _Counting429:
    """Counts the 429s the sandbox's rate limiter raises."""

    def __init__(self, server: SandboxServer):
        self.count = 0
        limiter = server.world.ratelimiter
        original = limiter.check

        def check(*args: Any, **kwargs: Any) -> None:
            try:
                original(*args, **kwargs)
            except Exception:
                self.count += 1
                raise

        limiter.check = check  # type: ignore[method-assign]


async def _unsettled(session_factory: Any) -> int:
    async with session_factory() as session:
        statement = select(func.count()).where(col(OutboxMessage.status).in_(UNSETTLED))
        return int((await session.exec(statement)).one())


async def run_outbound(
    *, messages: int, chats: int, workdir: Path, group_messages: int = 6, limit: float = 120.0
) -> OutboundResult:
    """Fill the outbox, let the sender drain it through the rate-limited sandbox, measure."""
    database_url = f"sqlite+aiosqlite:///{workdir / 'outbound.db'}"
    await upgrade(database_url)
    engine = create_engine(database_url)
    session_factory = create_session_factory(engine)
    config = SandboxConfig(host="127.0.0.1", port=0, rate_limits=True)
    limits = SenderSettings()
    private_messages = messages - group_messages
    try:
        async with SandboxServer(config) as server, SandboxClient(server.url) as client:
            await client.create_bot(token=TOKEN, username="outbound_bench_bot")
            users = []
            for index in range(chats):
                user = await client.create_user(first_name=f"수신자{index}", language_code="ko")
                await client.start_bot(int(user["id"]), TOKEN)
                users.append(int(user["id"]))
            group = await client.create_supergroup(
                title="상황실", bot_token=TOKEN, members=users[:2], admins=users[:1]
            )
            counter = _Counting429(server)
            async with session_factory() as session, session.begin():
                for index in range(private_messages):
                    await enqueue(
                        session=session,
                        message=OutboxCreate(
                            chat_id=users[index % chats],
                            kind="text",
                            payload={"text": f"<b>안내</b> {index}"},
                            priority=Priority.CITIZEN_REPLY,
                        ),
                    )
                for index in range(group_messages):
                    await enqueue(
                        session=session,
                        message=OutboxCreate(
                            chat_id=int(group["id"]),
                            kind="text",
                            payload={"text": f"상황 카드 {index}"},
                            priority=Priority.STAFF_NOTICE,
                        ),
                    )
            bot = Bot(
                token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url))
            )
            signal = OutboxSignal()
            signal.attach(session_factory)
            sender = Sender(
                bot=bot,
                session_factory=session_factory,
                settings=limits,
                signal=signal,
                worker_id="bench:outbound",
            )
            started = time.perf_counter()
            task = asyncio.create_task(sender.run(), name="outbox-sender")
            try:
                deadline = started + limit
                while time.perf_counter() < deadline:
                    if not await _unsettled(session_factory):
                        break
                    await asyncio.sleep(0.05)
                seconds = time.perf_counter() - started
            finally:
                await sender.stop()
                await task
                await bot.session.close()
            async with session_factory() as session:
                rows = (await session.exec(select(OutboxMessage.status))).all()
    finally:
        await engine.dispose()
    return OutboundResult(
        messages=messages,
        private_messages=private_messages,
        group_messages=group_messages,
        chats=chats,
        seconds=seconds,
        sent=sum(1 for status in rows if status == OutboxStatus.SENT.value),
        failed=sum(1 for status in rows if status != OutboxStatus.SENT.value),
        sandbox_429=counter.count,
        sender_429=sender.stats.rate_limited,
        limits=limits,
    )


def print_outbound(result: OutboundResult) -> None:
    """Print the outbound table."""
    limits = result.limits
    print(
        f"outbound: limits {limits.global_per_second:g} msg/s overall, "
        f"{limits.private_per_second:g}/s per private chat (burst {limits.private_burst}), "
        f"{limits.group_per_minute:g}/min per group (burst {limits.group_burst})"
    )
    header = (
        f"{'messages':>9}{'chats':>7}{'groups':>7}{'seconds':>9}{'floor s':>9}"
        f"{'msg/s':>8}{'sent':>7}{'failed':>7}{'429s':>6}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{result.messages:>9}{result.chats:>7}{result.group_messages:>7}"
        f"{result.seconds:>9.1f}{result.floor_seconds:>9.1f}{result.rate:>8.1f}"
        f"{result.sent:>7}{result.failed:>7}{result.sandbox_429:>6}"
    )
    print()
