"""Two webhook workers behind a reverse proxy on PostgreSQL and Redis, and a SIGKILL mid-burst.

Every report the sandbox delivered is stored exactly once; every reply the workers committed
reaches the citizen's chat, exactly once (or, for the few rows a killed worker was sending at
the moment it died, at least once).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, UserContextMiddleware
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.redis import RedisEventIsolation
from aiogram.types import Update
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, func, select

from bot.app import create_fsm
from bot.demo import DemoWorld, build_demo_world
from bot.settings import Settings
from sandbox.client import SandboxClient
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models.citizens import Citizen
from storage.models.outbox import UNSETTLED, OutboxMessage, OutboxStatus
from storage.models.reports import Report
from tests.conftest import REDIS_URL, require_redis
from tests.production.cluster import RoundRobinProxy, SenderProcess, Worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Kinds whose delivery puts exactly one new message in the chat.
ONE_MESSAGE_KINDS = ("text", "photo", "document", "voice", "location", "venue", "copy")
TEXTS = [
    "지하차도에 물이 차올라 차가 잠기고 있어요",
    "골목 배수구가 넘쳐서 도로가 침수됐어요",
    "강풍에 간판이 떨어질 것 같아요",
    "Water is flooding the underpass near the station",
]
PLACES = [(37.5663, 126.9779), (37.5172, 127.0473), (37.4563, 126.7052)]
# Starting a worker (imports, migration check, setWebhook) took over 30 s on a loaded 2-core host.
READY_WITHIN = 120.0


@dataclass
class Cluster:
    """The sandbox, two workers, the proxy and the database they share."""

    sandbox: SandboxServer
    client: SandboxClient
    world: DemoWorld
    proxy: RoundRobinProxy
    workers: list[Worker]
    sender: Worker | None  # ``jikimi send``, when the workers run without a sender
    engine: AsyncEngine
    session_factory: async_sessionmaker[Any]
    http: aiohttp.ClientSession
    citizens: list[int] = field(default_factory=list)

    def pending_deliveries(self) -> int:
        """Updates the sandbox has not delivered to the webhook yet."""
        return len(self.sandbox.world.bots[self.world.token].updates.pending)

    async def unsettled(self) -> int:
        """Outbox rows to citizens (private chats) not yet sent (or failed)."""
        async with self.session_factory() as session:
            statement = select(func.count()).where(
                col(OutboxMessage.status).in_(UNSETTLED), col(OutboxMessage.chat_id) > 0
            )
            return int((await session.exec(statement)).one())

    async def settle(self, within: float = 40.0) -> None:
        """Wait until every update was delivered and every outbox row settled."""
        deadline = time.monotonic() + within
        quiet = 0
        while time.monotonic() < deadline:
            busy = self.pending_deliveries() or await self.unsettled()
            quiet = 0 if busy else quiet + 1
            if quiet >= 5:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(
            f"not settled: {self.pending_deliveries()} undelivered updates, "
            f"{await self.unsettled()} unsettled outbox rows\n"
            + "\n".join(worker.tail(15) for worker in self.processes)
        )

    @property
    def processes(self) -> list[Worker]:
        """The workers and the sender process, if any."""
        return [*self.workers, *([self.sender] if self.sender else [])]

    async def reports_per_citizen(self) -> dict[int, int]:
        """Stored reports per citizen (Telegram user id)."""
        async with self.session_factory() as session:
            rows = await session.exec(
                select(Citizen.telegram_user_id, func.count(col(Report.id)))
                .join(Report, col(Report.citizen_id) == col(Citizen.id))
                .group_by(col(Citizen.telegram_user_id))
            )
            return {int(user): int(count) for user, count in rows.all() if user is not None}

    async def rows_to(self, chat_id: int) -> list[OutboxMessage]:
        """Every outbox row addressed to a chat."""
        async with self.session_factory() as session:
            rows = await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.chat_id) == chat_id)
            )
            return list(rows.all())

    def bot_message_ids(self, chat_id: int) -> list[int]:
        """Ids of every message the bot posted in a private chat (deleted ones included)."""
        bot = self.sandbox.world.bots[self.world.token]
        chat = self.sandbox.world.private_chats.get((bot.user.id, chat_id))
        if chat is None:
            return []
        return [m.message_id for m in chat.messages.values() if m.sender_id == bot.user.id]

    async def updates_handled(self, worker: Worker) -> float:
        """``jikimi_updates_total`` summed over types, read from the worker's /metrics."""
        return await self.metric(worker, "jikimi_updates_total{")

    async def metric(self, process: Worker, prefix: str) -> float:
        """A metric's samples whose line starts with ``prefix``, summed, from /metrics."""
        async with self.http.get(f"{process.url}/metrics") as response:
            body = await response.text()
        return sum(
            float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(prefix)
        )


@pytest.fixture
async def cluster(
    postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Cluster]:
    """Two webhook workers on a fresh PostgreSQL schema and Redis, behind a proxy.

    Parametrized indirectly with ``"separate sender"``, the workers run without a sender and
    one ``jikimi send`` delivers for both.
    """
    separate_sender = getattr(request, "param", None) == "separate sender"
    require_redis()
    await upgrade(postgres_url)
    config = SandboxConfig(
        host="127.0.0.1",
        port=0,
        rate_limits=False,
        first_user_id=random.randrange(10**8, 2 * 10**9),
        webhook_retry_delays=(0.1, 0.2, 0.5, 1.0),
    )
    engine = create_engine(postgres_url)
    async with (
        SandboxServer(config) as sandbox,
        SandboxClient(sandbox.url) as client,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
    ):
        world = await build_demo_world(client)
        proxy = RoundRobinProxy()
        hook_url = f"{proxy.url}/telegram/webhook"
        env = {
            "JIKIMI_DATABASE_URL": postgres_url,
            "JIKIMI_REDIS_URL": REDIS_URL,
            "JIKIMI_TELEGRAM__API_BASE": sandbox.url,
            "JIKIMI_TELEGRAM__TOKEN": world.token,
            "JIKIMI_STAFF_CHAT_ID": str(world.staff_chat_id),
            "JIKIMI_EXPERTS_HUB_ID": str(world.experts_hub_id),
            "JIKIMI_MEDIA_DIR": str(tmp_path / "media"),
            "JIKIMI_LOG_JSON": "true",
            # The sandbox's limits are off: let staff-group notices go out at once too.
            "JIKIMI_SENDER__GROUP_PER_MINUTE": "6000",
            "JIKIMI_SENDER__GROUP_BURST": "100",
        }
        sender = SenderProcess("sender", env=env, logs=tmp_path) if separate_sender else None
        if separate_sender:
            env = {**env, "JIKIMI_SENDER__IN_WORKER": "false"}
        workers = [
            Worker(name, webhook_url=hook_url, env=env, logs=tmp_path) for name in ("a", "b")
        ]
        processes = [*workers, *([sender] if sender else [])]
        proxy.route([worker.url for worker in workers])
        await proxy.start()
        try:
            for process in processes:
                await process.start()
            for process in processes:
                await process.wait_ready(http, within=READY_WITHIN)
            yield Cluster(
                sandbox=sandbox,
                client=client,
                world=world,
                proxy=proxy,
                workers=workers,
                sender=sender,
                engine=engine,
                session_factory=create_session_factory(engine),
                http=http,
            )
        finally:
            for process in processes:
                await process.stop()
            await proxy.stop()
            await engine.dispose()


async def _citizens(cluster: Cluster, count: int) -> list[int]:
    ids = []
    for index in range(count):
        user = await cluster.client.create_user(first_name=f"시민{index}", language_code="ko")
        ids.append(int(user["id"]))
    cluster.citizens = ids
    return ids


async def _report(cluster: Cluster, index: int, user: int, *, delay: float) -> None:
    """One citizen's report: a description, then where it is."""
    await asyncio.sleep(delay)
    latitude, longitude = PLACES[index % len(PLACES)]
    await cluster.client.send_text(user, user, f"{TEXTS[index % len(TEXTS)]} ({index})")
    await cluster.client.send_location(user, user, latitude + index * 1e-4, longitude)


async def _expire_leases_of(cluster: Cluster, worker: Worker) -> int:
    """Make the dead worker's leases run out now (instead of in two minutes); count them.

    The rows a SIGKILLed worker was sending stay leased to it until the lease ends; another
    worker then claims them. Moving ``lease_until`` to the past is that wait, shortened.
    """
    async with cluster.session_factory() as session, session.begin():
        result = await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.status) == OutboxStatus.SENDING.value,
                col(OutboxMessage.lease_owner).like(f"%:{worker.pid}"),
            )
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))


async def _release_chat_locks(token: str, bodies: list[bytes]) -> int:
    """Release the chat locks a dead worker held (instead of waiting 15 s); count them.

    ``RedisEventIsolation`` locks a chat while one of its updates is handled; the lock of a
    SIGKILLed worker stays until its Redis timeout (15 s, see ``bot.app.create_fsm``), holding
    back that chat's next updates. ``bodies`` are the updates in flight to the dead worker: the
    sandbox sends one update per chat at a time, so no live worker holds their locks. Each lock
    is named as a worker names it: aiogram's FSM middleware makes the ``StorageKey`` (bot id,
    chat, user) and ``create_fsm``'s key builder turns it into the Redis key.
    """
    storage, isolation = create_fsm(Settings(redis_url=REDIS_URL))
    assert isinstance(isolation, RedisEventIsolation)
    fsm = FSMContextMiddleware(storage=storage, events_isolation=isolation)
    bot = Bot(token)
    try:
        names = []
        for body in bodies:
            event = UserContextMiddleware.resolve_event_context(Update.model_validate_json(body))
            context = fsm.resolve_event_context(bot, {EVENT_CONTEXT_KEY: event})
            if context is not None:
                names.append(isolation.key_builder.build(context.key, "lock"))
        return int(await isolation.redis.delete(*names)) if names else 0
    finally:
        await fsm.close()
        await bot.session.close()


async def _assert_each_report_once_and_replies_delivered(
    cluster: Cluster, *, allowed_duplicates: int = 0
) -> None:
    reports = await cluster.reports_per_citizen()
    assert {user: reports.get(user, 0) for user in cluster.citizens} == {
        user: 1 for user in cluster.citizens
    }
    duplicates = 0
    for user in cluster.citizens:
        rows = await cluster.rows_to(user)
        assert rows, f"no reply was committed for citizen {user}"
        assert {row.status for row in rows} == {OutboxStatus.SENT.value}, [
            (row.id, row.status, row.last_error) for row in rows
        ]
        expected = sorted(row.result_message_id for row in rows if row.kind in ONE_MESSAGE_KINDS)
        shown = cluster.bot_message_ids(user)
        assert None not in expected
        assert set(expected) <= set(shown), "a committed reply is missing from the chat"
        assert len(expected) == len(set(expected))
        duplicates += len(shown) - len(expected)
    assert duplicates <= allowed_duplicates


async def test_two_workers_behind_a_proxy_store_each_report_once_and_reply_once(
    cluster: Cluster,
) -> None:
    """A burst through the proxy: both workers work, nothing is lost or doubled."""
    users = await _citizens(cluster, 24)
    await asyncio.gather(
        *(_report(cluster, i, user, delay=i * 0.02) for i, user in enumerate(users))
    )
    await cluster.settle()
    await _assert_each_report_once_and_replies_delivered(cluster)
    handled = [await cluster.updates_handled(worker) for worker in cluster.workers]
    assert all(count > 0 for count in handled), handled
    assert all(count > 0 for count in cluster.proxy.forwarded), cluster.proxy.forwarded
    for worker in cluster.workers:
        lines = [line for line in worker.log_path.read_text().splitlines() if line.strip()]
        assert lines and all(json.loads(line)["level"] for line in lines), worker.tail()
        assert cluster.world.token not in "\n".join(lines)
        assert "on the uvloop event loop" in "\n".join(lines), worker.tail()


@pytest.mark.parametrize("cluster", ["separate sender"], indirect=True)
async def test_one_sender_process_delivers_for_both_workers(cluster: Cluster) -> None:
    """Workers without a sender commit replies; ``jikimi send`` delivers each exactly once."""
    assert cluster.sender is not None
    users = await _citizens(cluster, 16)
    await asyncio.gather(
        *(_report(cluster, i, user, delay=i * 0.02) for i, user in enumerate(users))
    )
    await cluster.settle()
    await _assert_each_report_once_and_replies_delivered(cluster)
    sent = 'jikimi_sends_total{result="sent"}'
    assert [await cluster.metric(worker, sent) for worker in cluster.workers] == [0.0, 0.0]
    assert await cluster.metric(cluster.sender, sent) > 0
    async with cluster.http.get(f"{cluster.sender.url}/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"database": True, "sender": True}
    for worker in cluster.workers:  # ready without a sender of their own
        async with cluster.http.get(f"{worker.url}/readyz") as response:
            assert await response.json() == {"database": True}
    assert "on the uvloop event loop" in cluster.sender.log_path.read_text()


async def test_sigkill_mid_burst_loses_nothing(cluster: Cluster) -> None:
    """Kill a worker while the burst is being handled, start it again: nothing is lost."""
    users = await _citizens(cluster, 30)
    burst = asyncio.gather(
        *(_report(cluster, i, user, delay=i * 0.03) for i, user in enumerate(users))
    )
    victim = cluster.workers[0]
    async with asyncio.timeout(20):
        while True:
            if await cluster.updates_handled(victim) >= 8:
                break
            await asyncio.sleep(0.02)
    undelivered = cluster.pending_deliveries()
    assert undelivered > 0, "every update was delivered before the kill: make the burst longer"
    cluster.proxy.take_out(0)
    handling = cluster.proxy.bodies_in_flight(0)
    await victim.kill()
    in_flight = await _expire_leases_of(cluster, victim)
    locks = await _release_chat_locks(cluster.world.token, handling)
    print(
        f"killed {victim.name}: {undelivered} updates undelivered, {in_flight} rows leased,"
        f" {locks} chat locks held"
    )
    await asyncio.sleep(0.5)
    await victim.start()
    await victim.wait_ready(cluster.http)
    cluster.proxy.put_back(0)
    await burst
    await cluster.settle(within=45)
    # A row the dead worker was sending may have reached the chat before it could record
    # that: another worker sends it again once the lease expires (at least once).
    await _assert_each_report_once_and_replies_delivered(cluster, allowed_duplicates=in_flight)
    print(f"proxy forwarded {cluster.proxy.forwarded}, failed {cluster.proxy.failed}")


async def _drop_database_connections(cluster: Cluster) -> int:
    """Terminate every connection to this test's schema, as a restart or failover does."""
    async with cluster.engine.connect() as connection:
        dropped = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = current_setting('application_name')"
                " AND pid <> pg_backend_pid()"
            )
        )
    await cluster.engine.dispose()  # the test's own idle connections were dropped too
    return int(dropped or 0)


async def _outbox_statuses_once_settled(cluster: Cluster, within: float = 30.0) -> dict[str, int]:
    """Rows per status once none is pending or sending, in any chat (the staff room's too)."""
    deadline = time.monotonic() + within
    while True:
        async with cluster.session_factory() as session:
            rows = await session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            )
            statuses = {str(status): int(count) for status, count in rows.all()}
        if not set(statuses) & set(UNSETTLED) or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.1)


async def test_database_dropping_every_connection_mid_burst_loses_nothing(
    cluster: Cluster,
) -> None:
    """PostgreSQL drops the workers' connections twice during a burst: nothing lost or doubled.

    Pooled connections are not pinged before use: the first statement on a dead one fails,
    the pool discards its connections, and the update (or the sender's write) is retried.
    """
    users = await _citizens(cluster, 30)
    burst = asyncio.gather(
        *(_report(cluster, i, user, delay=i * 0.03) for i, user in enumerate(users))
    )
    drops = []
    for handled in (8, 30):
        async with asyncio.timeout(20):
            while True:
                counts = [await cluster.updates_handled(worker) for worker in cluster.workers]
                if sum(counts) >= handled:
                    break
                await asyncio.sleep(0.02)
        drops.append(await _drop_database_connections(cluster))
    assert cluster.pending_deliveries() > 0, "the burst ended before the drops: make it longer"
    assert all(dropped > 0 for dropped in drops), drops
    await burst
    await cluster.settle(within=45)
    await _assert_each_report_once_and_replies_delivered(cluster)
    statuses = await _outbox_statuses_once_settled(cluster)
    assert set(statuses) == {OutboxStatus.SENT.value}, statuses
    for worker in cluster.workers:
        assert worker.process is not None and worker.process.returncode is None, worker.tail()


# The lease (10 s) plus the check interval (2 s) is the worst case after a SIGKILL; the margin
# is for a slow host. The old lease (30 s, renewed every 10 s) took up to 40 s.
TAKEOVER_WITHIN = 20.0


async def _lease_owner(cluster: Cluster) -> str | None:
    async with cluster.session_factory() as session:
        rows = await session.exec(
            text("SELECT owner FROM scheduler_lease WHERE name = 'scheduler'")
        )
        return rows.scalar_one_or_none()  # type: ignore[attr-defined,no-any-return]


async def _leader_among(cluster: Cluster, workers: list[Worker], within: float) -> Worker:
    """The worker that holds the scheduler lease, once one of ``workers`` does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        owner = await _lease_owner(cluster) or ""
        for worker in workers:
            if f":{worker.pid}:" in f"{owner}:":  # host:pid, or host:pid:random
                return worker
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no leader among {[w.name for w in workers]}: lease owner {owner!r}")


async def test_another_worker_runs_the_scheduler_within_seconds_of_a_sigkill(
    cluster: Cluster,
) -> None:
    """SIGKILL the scheduler's leader: the other worker takes the lease and starts it."""
    leader = await _leader_among(cluster, cluster.workers, within=30)
    survivor = next(worker for worker in cluster.workers if worker is not leader)
    killed = time.monotonic()
    await leader.kill()
    await _leader_among(cluster, [survivor], within=TAKEOVER_WITHIN + 20)
    took = time.monotonic() - killed
    print(f"scheduler taken over {took:.1f} s after the SIGKILL")
    assert took <= TAKEOVER_WITHIN, (took, survivor.tail(20))
    deadline = time.monotonic() + 10
    while "leads the scheduler" not in survivor.tail(200):
        assert time.monotonic() < deadline, survivor.tail(20)
        await asyncio.sleep(0.1)
