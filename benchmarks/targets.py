"""The two bots the surge compares: the bare aiogram echo bot and the whole jikimi pipeline."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.processes import BotProcess, ProcessGroup
from benchmarks.proxy import RoundRobinProxy, free_port
from benchmarks.watch import ChatWatcher
from bot.demo import DEMO_TOKEN, build_demo_world
from sandbox.client import SandboxClient
from situation.callbacks import ManualPage
from storage.engine import create_engine, create_session_factory, is_postgres
from storage.migrate import upgrade
from storage.models.citizens import Citizen
from storage.models.outbox import UNSETTLED, OutboxMessage
from storage.models.reports import Report

ECHO_TOKEN = "7000000002:ECHO-benchmark-token-0000000000000"


class EchoTarget:
    """A bare aiogram bot answering each message at once: the ceiling of the transport."""

    label = "bare aiogram echo"

    async def setup(self, client: SandboxClient, api_base: str, workdir: Path) -> int:
        """Register the echo bot."""
        bot = await client.create_bot(token=ECHO_TOKEN, username="echo_bench_bot")
        return int(bot["id"])

    def process(self, api_base: str, workdir: Path) -> BotProcess:
        """``python -m benchmarks.echo_bot``."""
        return BotProcess.python_module(
            "benchmarks.echo_bot",
            "--api-base",
            api_base,
            "--token",
            ECHO_TOKEN,
            env={},
            log_path=workdir / "echo.log",
        )

    async def prepare(self, client: SandboxClient, watcher: ChatWatcher, user_id: int) -> None:
        """Nothing to prepare: the echo bot has no conversation."""

    def is_answer(self, data: dict[str, Any]) -> bool:
        """The echo of the report text."""
        return "#" in str(data.get("text") or "")

    async def stored_reports(self, user_ids: list[int]) -> dict[int, int] | None:
        """The echo bot stores nothing."""
        return None

    async def staff_room(self) -> tuple[int, int] | None:
        """The echo bot has no staff room."""
        return None

    async def citizen_replies(self) -> tuple[int, int] | None:
        """The echo bot has no outbox: its one answer is the echo."""
        return None

    async def cleanup(self) -> None:
        """Nothing to release."""


# The sender's own limits lifted for the surge, so that it measures the pipeline rather than
# Telegram's 30 messages/s (the echo bot has no limiter either); see benchmarks/outbound.py.
UNTHROTTLED_SENDER = {
    "JIKIMI_SENDER__GLOBAL_PER_SECOND": "100000",
    "JIKIMI_SENDER__PRIVATE_PER_SECOND": "1000",
    "JIKIMI_SENDER__PRIVATE_BURST": "100",
    "JIKIMI_SENDER__GROUP_PER_MINUTE": "1000000",
    "JIKIMI_SENDER__GROUP_BURST": "1000",
}


class JikimiTarget:
    """``jikimi run`` (polling) on a fresh database: intake, storage, outbox, sender."""

    def __init__(self, database_url: str, label: str, *, telegram_limits: bool = False):
        self.label = label
        self.server_url = database_url
        self.database_url = database_url
        self.telegram_limits = telegram_limits
        self._schema: str | None = None
        self._reader: AsyncEngine | None = None  # the harness's queries, opened on first use

    async def setup(self, client: SandboxClient, api_base: str, workdir: Path) -> int:
        """Build the demo world and migrate a fresh database (a new schema on PostgreSQL)."""
        if not is_postgres(self.server_url):
            _remove_sqlite(self.database_url)
        if is_postgres(self.server_url):
            self._schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            engine = create_engine(self.server_url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(f'CREATE SCHEMA "{self._schema}"'))
            finally:
                await engine.dispose()
            separator = "&" if "?" in self.server_url else "?"
            self.database_url = f"{self.server_url}{separator}search_path={self._schema}"
        await upgrade(self.database_url)
        self.world = await build_demo_world(client)
        self.workdir = workdir
        return self.world.bot_id

    def process(self, api_base: str, workdir: Path) -> BotProcess:
        """``python -m bot.cli run`` against the sandbox."""
        env = {
            "JIKIMI_DATABASE_URL": self.database_url,
            "JIKIMI_TELEGRAM__API_BASE": api_base,
            "JIKIMI_TELEGRAM__TOKEN": DEMO_TOKEN,
            "JIKIMI_STAFF_CHAT_ID": str(self.world.staff_chat_id),
            "JIKIMI_EXPERTS_HUB_ID": str(self.world.experts_hub_id),
            "JIKIMI_MEDIA_DIR": str(workdir / "media"),
            **({} if self.telegram_limits else UNTHROTTLED_SENDER),
        }
        return BotProcess.python_module(
            "bot.cli", "run", env=env, log_path=workdir / f"jikimi-{self.label}.log"
        )

    async def prepare(self, client: SandboxClient, watcher: ChatWatcher, user_id: int) -> None:
        """Nothing: in a surge most citizens write to the bot for the first time."""

    def is_answer(self, data: dict[str, Any]) -> bool:
        """The action manual: the answer that carries the manual's buttons or title."""
        return _is_manual(data)

    def _read(self) -> AsyncSession:
        """A session on the harness's own engine (one for the run: the surge polls it)."""
        if self._reader is None:
            self._reader = create_engine(self.database_url)
        return create_session_factory(self._reader)()

    async def stored_reports(self, user_ids: list[int]) -> dict[int, int] | None:
        """Count stored reports per citizen (by Telegram user id)."""
        async with self._read() as session:
            rows = (
                await session.exec(
                    select(Citizen.telegram_user_id, func.count(col(Report.id)))
                    .join(Report, col(Report.citizen_id) == col(Citizen.id))
                    .where(col(Citizen.telegram_user_id).in_(user_ids))
                    .group_by(col(Citizen.telegram_user_id))
                )
            ).all()
        return {int(user): int(count) for user, count in rows if user is not None}

    async def staff_room(self) -> tuple[int, int] | None:
        """Messages queued for the staff group so far, and how many are still unsent."""
        return await self._outbox(col(OutboxMessage.chat_id) == self.world.staff_chat_id)

    async def citizen_replies(self) -> tuple[int, int] | None:
        """Messages queued for citizens (private chats) so far, and how many are still unsent."""
        return await self._outbox(col(OutboxMessage.chat_id) > 0)

    async def _outbox(self, chats: Any) -> tuple[int, int]:
        async with self._read() as session:
            queued, unsent = (
                await session.exec(
                    select(
                        func.count(),
                        func.count().filter(col(OutboxMessage.status).in_(UNSETTLED)),
                    ).where(chats)
                )
            ).one()
        return int(queued), int(unsent)

    async def cleanup(self) -> None:
        """Close the harness's engine and drop the benchmark's PostgreSQL schema."""
        if self._reader is not None:
            await self._reader.dispose()
            self._reader = None
        if self._schema is None:
            return
        engine = create_engine(self.server_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE'))
        finally:
            await engine.dispose()
        await asyncio.sleep(0)


class JikimiWebhookTarget(JikimiTarget):
    """Several ``jikimi run --webhook`` workers behind a round-robin proxy (PostgreSQL, Redis)."""

    def __init__(self, database_url: str, redis_url: str, *, workers: int):
        super().__init__(database_url, f"jikimi PG webhook x{workers}")
        self.redis_url = redis_url
        self.ports = [free_port() for _ in range(workers)]
        self.proxy = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in self.ports])

    async def setup(self, client: SandboxClient, api_base: str, workdir: Path) -> int:
        """Migrate, build the world, forget old conversation state and start the proxy."""
        bot_id = await super().setup(client, api_base, workdir)
        from redis.asyncio import Redis

        redis = Redis.from_url(self.redis_url)
        try:
            keys = [key async for key in redis.scan_iter("fsm:*")]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()
        await self.proxy.start()
        return bot_id

    def process(self, api_base: str, workdir: Path) -> ProcessGroup:  # type: ignore[override]
        """The workers, each on its own port, all behind the proxy."""
        base = super().process(api_base, workdir)
        workers = []
        for index, port in enumerate(self.ports):
            env = {key: value for key, value in base.env.items() if key.startswith("JIKIMI_")}
            env["JIKIMI_REDIS_URL"] = self.redis_url
            env["JIKIMI_TELEGRAM__WEBHOOK_PORT"] = str(port)
            workers.append(
                BotProcess.python_module(
                    "bot.cli",
                    "run",
                    "--webhook",
                    f"{self.proxy.url}/telegram/webhook",
                    env=env,
                    log_path=workdir / f"jikimi-webhook-{index}.log",
                )
            )
        return ProcessGroup(workers)

    async def cleanup(self) -> None:
        """Stop the proxy and drop the schema."""
        await self.proxy.stop()
        await super().cleanup()


class JikimiSeparateSenderTarget(JikimiTarget):
    """One polling worker without a sender, and ``jikimi send`` delivering for it (PostgreSQL)."""

    def __init__(self, database_url: str):
        super().__init__(database_url, "jikimi PG + jikimi send")

    def process(self, api_base: str, workdir: Path) -> ProcessGroup:  # type: ignore[override]
        """The worker and the sender process, with the same settings."""
        worker = super().process(api_base, workdir)
        env = {key: value for key, value in worker.env.items() if key.startswith("JIKIMI_")}
        worker.env["JIKIMI_SENDER__IN_WORKER"] = "false"
        sender = BotProcess.python_module(
            "bot.cli", "send", env=env, log_path=workdir / "jikimi-send.log"
        )
        return ProcessGroup([worker, sender])


def _remove_sqlite(url: str) -> None:
    """Start from an empty SQLite file (update ids restart with every sandbox)."""
    database = Path(url.split("///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _is_manual(data: dict[str, Any]) -> bool:
    markup = data.get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if str(button.get("callback_data") or "").startswith(ManualPage.PREFIX):
                return True
    return False
