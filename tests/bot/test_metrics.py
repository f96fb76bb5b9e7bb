"""Metrics: a registry per worker, updates and latency by type, gauges read from storage."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Message, Update
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.api_calls import RateLimitTally
from bot.metrics import create_metrics
from bot.middlewares.admission import AdmissionMiddleware
from bot.middlewares.metrics import MetricsMiddleware
from storage.incidents import create_incident
from storage.models.incidents import Incident, IncidentStatus
from storage.models.outbox import OutboxCreate
from storage.outbox import enqueue


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _update(update_id: int) -> Update:
    message = Message.model_validate(
        {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "hi",
        }
    )
    return Update(update_id=update_id, message=message)


@dataclass
class FakeStats:
    """The counters a sender keeps."""

    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    rate_limited: int = 0


@dataclass
class FakeSender:
    """Anything with ``stats`` can be watched."""

    stats: FakeStats


def test_each_worker_has_its_own_registry_and_reads_its_sender() -> None:
    """Two metric sets coexist; each shows its own sender's counters at scrape time."""
    first, second = create_metrics(), create_metrics()
    sender = FakeSender(FakeStats())
    first.watch_sender(sender)
    tally = RateLimitTally()
    first.watch_rate_limits(tally)
    sender.stats.sent = 7
    sender.stats.rate_limited = 2
    tally.count = 3  # the sends' two and a download's
    samples = _samples(first.render())
    assert samples[("jikimi_sends_total", (("result", "sent"),))] == 7
    assert samples[("jikimi_sends_total", (("result", "rate_limited"),))] == 2
    assert samples[("jikimi_telegram_429_total", ())] == 3
    sender.stats.sent = 9
    assert _samples(first.render())[("jikimi_sends_total", (("result", "sent"),))] == 9
    assert ("jikimi_sends_total", (("result", "sent"),)) not in _samples(second.render())


async def test_updates_running_and_waiting_are_read_from_the_admission() -> None:
    """The gauges show the admission's counts at each scrape."""
    metrics = create_metrics()
    admission = AdmissionMiddleware(1, follow_up_delay=0)
    metrics.watch_admission(admission)
    assert _samples(metrics.render())[("jikimi_updates_running", ())] == 0
    release = asyncio.Event()

    async def hold(_event: Any, _data: dict[str, Any]) -> None:
        await release.wait()

    update = Update(update_id=1)
    tasks = [asyncio.create_task(admission(hold, update, {})) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    samples = _samples(metrics.render())
    assert samples[("jikimi_updates_running", ())] == 1
    assert samples[("jikimi_updates_waiting", ())] == 2
    release.set()
    await asyncio.gather(*tasks)
    assert _samples(metrics.render())[("jikimi_updates_waiting", ())] == 0


async def test_middleware_counts_updates_and_errors_by_type() -> None:
    """Handled and failing updates are counted by type and timed."""
    metrics = create_metrics()
    middleware = MetricsMiddleware()

    async def ok(_event: Any, _data: dict[str, Any]) -> Any:
        return UNHANDLED

    async def broken(_event: Any, _data: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    await middleware(ok, _update(1), {"metrics": metrics})
    await middleware(ok, _update(2), {"metrics": metrics})
    with pytest.raises(RuntimeError, match="boom"):
        await middleware(broken, _update(3), {"metrics": metrics})
    samples = _samples(metrics.render())
    assert samples[("jikimi_updates_total", (("type", "message"),))] == 3
    assert samples[("jikimi_handler_errors_total", (("type", "message"),))] == 1
    assert samples[("jikimi_handler_seconds_count", (("type", "message"),))] == 3


async def test_middleware_without_metrics_passes_through() -> None:
    """Without metrics in the data (polling) the chain still runs."""
    seen: list[int] = []

    async def handler(event: Any, _data: dict[str, Any]) -> Any:
        seen.append(event.update_id)
        return "done"

    assert await MetricsMiddleware()(handler, _update(9), {}) == "done"
    assert seen == [9]


async def test_refresh_reads_outbox_and_open_incidents(
    session_factory: async_sessionmaker[Any],
) -> None:
    """Gauges show unsettled outbox rows, the oldest's age, and open incidents only."""
    now = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        for chat in (1, 2):
            await enqueue(
                session=session,
                message=OutboxCreate(chat_id=chat, kind="text", payload={"text": "x"}),
            )
        for status, priority in (
            (IncidentStatus.NEW, "P1"),
            (IncidentStatus.NEW, "P1"),
            (IncidentStatus.ACKNOWLEDGED, "P3"),
            (IncidentStatus.CLOSED, "P1"),
        ):
            await create_incident(
                session=session, incident=Incident(status=status, priority=priority)
            )
    metrics = create_metrics()
    assert await metrics.refresh(session_factory, now=now + timedelta(seconds=30))
    samples = _samples(metrics.render())
    assert samples[("jikimi_outbox_depth", (("status", "pending"),))] == 2
    assert samples[("jikimi_outbox_depth", (("status", "sending"),))] == 0
    assert 25 <= samples[("jikimi_outbox_oldest_age_seconds", ())] <= 60
    assert samples[("jikimi_open_incidents", (("priority", "P1"), ("status", "new")))] == 2
    assert samples[("jikimi_open_incidents", (("priority", "P3"), ("status", "acknowledged")))] == 1
    assert not any(
        name == "jikimi_open_incidents" and ("status", "closed") in labels
        for name, labels in samples
    )


async def test_refresh_survives_an_unreachable_database(
    session_factory: async_sessionmaker[Any],
) -> None:
    """A scrape while the database is down counts an error and shows no stale figures."""
    from storage.engine import create_engine, create_session_factory

    metrics = create_metrics()
    assert await metrics.refresh(session_factory)
    assert _samples(metrics.render())[("jikimi_database_up", ())] == 1
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert not await metrics.refresh(create_session_factory(engine))
    finally:
        await engine.dispose()
    samples = _samples(metrics.render())
    assert samples[("jikimi_metrics_scrape_errors_total", ())] == 1
    assert samples[("jikimi_database_up", ())] == 0
    assert not any(name.startswith(("jikimi_outbox", "jikimi_open")) for name, _ in samples)


async def test_refresh_gives_up_on_a_database_that_does_not_answer() -> None:
    """A database that accepts connections and never answers holds a scrape ``within`` s only."""
    from storage.engine import create_engine, create_session_factory

    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    metrics = create_metrics()
    try:
        async with asyncio.timeout(5):
            assert not await metrics.refresh(create_session_factory(engine), within=0.3)
    finally:
        server.close()
        for writer in accepted:
            writer.close()
        await engine.dispose()
    assert _samples(metrics.render())[("jikimi_database_up", ())] == 0
