"""Prometheus metrics of one worker, in a registry of its own (nothing is built at import time).

Usage::

    metrics = create_metrics()
    dispatcher["metrics"] = metrics            # the metrics middleware finds it there
    metrics.watch_sender(sender)               # sends by result and 429s, read at scrape
    metrics.watch_admission(admission)         # updates being handled and waiting their turn
    await metrics.refresh(session_factory)     # at scrape: outbox depth/age, open incidents
    body = metrics.render()

Names: ``jikimi_updates_total{type}``, ``jikimi_handler_seconds{type}``,
``jikimi_handler_errors_total{type}``, ``jikimi_sends_total{result}`` (sent, failed,
unreachable, retried, rate_limited), ``jikimi_telegram_429_total``,
``jikimi_outbox_depth{status}``, ``jikimi_outbox_oldest_age_seconds``,
``jikimi_open_incidents{status,priority}``, ``jikimi_updates_running``,
``jikimi_updates_waiting``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.metrics_queries import open_incident_counts
from storage.outbox import depth_and_age

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


SEND_RESULTS = ("sent", "failed", "unreachable", "retried", "rate_limited")


class SenderStats(Protocol):
    """The counters ``bot.sender.Sender.stats`` keeps (one per delivery outcome)."""

    sent: int
    failed: int
    unreachable: int
    retried: int
    rate_limited: int


class HasStats(Protocol):
    """A sender exposing :class:`SenderStats` as ``stats``."""

    @property
    def stats(self) -> SenderStats:
        """The sender's counters."""


class SenderCollector(Collector):
    """Exposes a sender's own counters at scrape time (the sender needs no metrics code)."""

    def __init__(self, sender: HasStats):
        self._sender = sender

    def collect(self) -> Iterator[Metric]:
        """Yield ``jikimi_sends_total{result}`` and ``jikimi_telegram_429_total``."""
        stats = self._sender.stats
        sends = CounterMetricFamily(
            "jikimi_sends", "Outbox delivery outcomes, by result.", labels=["result"]
        )
        for result in SEND_RESULTS:
            sends.add_metric([result], float(getattr(stats, result, 0)))
        yield sends
        yield CounterMetricFamily(
            "jikimi_telegram_429",
            "Bot API answers 429 Too Many Requests.",
            value=float(getattr(stats, "rate_limited", 0)),
        )


class Admission(Protocol):
    """How many updates a worker handles and how many wait their turn."""

    @property
    def running(self) -> int:
        """Updates being handled."""

    @property
    def waiting(self) -> int:
        """Updates waiting for their turn."""


class AdmissionCollector(Collector):
    """Exposes the updates being handled and waiting (bot/middlewares/admission.py) at scrape."""

    def __init__(self, admission: Admission):
        self._admission = admission

    def collect(self) -> Iterator[Metric]:
        """Yield ``jikimi_updates_running`` and ``jikimi_updates_waiting``."""
        yield GaugeMetricFamily(
            "jikimi_updates_running",
            "Updates this worker is handling now.",
            value=float(self._admission.running),
        )
        yield GaugeMetricFamily(
            "jikimi_updates_waiting",
            "Updates this worker accepted that wait for their turn.",
            value=float(self._admission.waiting),
        )


@dataclass
class Metrics:
    """Every metric of a worker and the registry that exposes them."""

    registry: CollectorRegistry
    updates: Counter
    handler_seconds: Histogram
    handler_errors: Counter
    outbox_depth: Gauge
    outbox_age: Gauge
    open_incidents: Gauge
    scrape_errors: Counter

    def observe_update(self, update_type: str, seconds: float, *, failed: bool = False) -> None:
        """Record one handled update of ``update_type`` and how long it took."""
        self.updates.labels(type=update_type).inc()
        self.handler_seconds.labels(type=update_type).observe(seconds)
        if failed:
            self.handler_errors.labels(type=update_type).inc()

    def watch_sender(self, sender: HasStats) -> None:
        """Expose the sender's counters (sends by result, 429s) in this registry."""
        self.registry.register(SenderCollector(sender))

    def watch_admission(self, admission: Admission) -> None:
        """Expose the updates being handled and waiting their turn in this registry."""
        self.registry.register(AdmissionCollector(admission))

    async def refresh(
        self, session_factory: async_sessionmaker[Any], *, now: datetime | None = None
    ) -> bool:
        """Recompute the gauges read from the database; False if the database did not answer."""
        moment = now or datetime.now(UTC)
        try:
            async with session_factory() as session:
                depth = await depth_and_age(session=session, now=moment)
                incidents = await open_incident_counts(session=session)
        except Exception:  # a scrape must answer even while the database is down
            log.warning("metrics: database unavailable at scrape", exc_info=True)
            self.scrape_errors.inc()
            return False
        self.outbox_depth.labels(status="pending").set(depth.pending)
        self.outbox_depth.labels(status="sending").set(depth.sending)
        self.outbox_age.set(depth.oldest_age_seconds)
        self.open_incidents.clear()
        for (status, priority), count in incidents.items():
            self.open_incidents.labels(status=status, priority=priority).set(count)
        return True

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def create_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """Build every metric in ``registry`` (a new one by default)."""
    registry = registry or CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        updates=Counter("jikimi_updates", "Updates handled, by type.", ["type"], registry=registry),
        handler_seconds=Histogram(
            "jikimi_handler_seconds",
            "Time to handle one update (transaction included), by type.",
            ["type"],
            buckets=HANDLER_BUCKETS,
            registry=registry,
        ),
        handler_errors=Counter(
            "jikimi_handler_errors",
            "Updates whose handling raised, by type.",
            ["type"],
            registry=registry,
        ),
        outbox_depth=Gauge(
            "jikimi_outbox_depth",
            "Unsettled outbox rows, by status.",
            ["status"],
            registry=registry,
        ),
        outbox_age=Gauge(
            "jikimi_outbox_oldest_age_seconds",
            "Age of the oldest unsettled outbox row.",
            registry=registry,
        ),
        open_incidents=Gauge(
            "jikimi_open_incidents",
            "Open incidents, by status and priority.",
            ["status", "priority"],
            registry=registry,
        ),
        scrape_errors=Counter(
            "jikimi_metrics_scrape_errors",
            "Scrapes during which the database did not answer.",
            registry=registry,
        ),
    )


def add_metrics_route(
    app: web.Application, *, metrics: Metrics, session_factory: async_sessionmaker[Any]
) -> None:
    """Serve ``GET /metrics``: gauges are recomputed from the database at every scrape."""

    async def scrape(_request: web.Request) -> web.Response:
        await metrics.refresh(session_factory)
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    app.router.add_get("/metrics", scrape)
