"""Prometheus metrics of one worker, in a registry of its own (nothing is built at import time).

Usage::

    metrics = create_metrics()
    dispatcher["metrics"] = metrics            # the metrics middleware finds it there
    metrics.watch_sender(sender)               # sends by result, read at scrape
    metrics.watch_rate_limits(tally)           # the Bot API's 429s to any call (bot.api_calls)
    metrics.watch_admission(admission)         # updates being handled and waiting their turn
    await metrics.refresh(session_factory)     # at scrape: outbox depth/age, open incidents
    body = metrics.render()

Names: ``jikimi_updates_total{type}``, ``jikimi_updates_repeated_total{type}``,
``jikimi_handler_seconds{type}``, ``jikimi_handler_errors_total{type}``,
``jikimi_sends_total{result}`` (sent, failed, unreachable, retried, rate_limited, stale:
a result dropped because the row's lease had passed to another worker),
``jikimi_telegram_429_total``, ``jikimi_updates_running``, ``jikimi_updates_waiting``, and
from the database: ``jikimi_database_up``, ``jikimi_outbox_depth{status}``,
``jikimi_outbox_oldest_age_seconds``, ``jikimi_open_incidents{status,priority}``. The
database's figures are left out of a scrape during which the database did not answer within
``REFRESH_TIMEOUT`` (``jikimi_database_up`` is then 0): a stale figure would look current.
They are the same in every process that serves them: aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.metrics_queries import open_incident_counts
from storage.outbox import depth_and_age

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Well within Prometheus' default scrape timeout (10 s): a stalled database must not take the
# in-memory counters down with it.
REFRESH_TIMEOUT = 2.0


SEND_RESULTS = ("sent", "failed", "unreachable", "retried", "rate_limited", "stale")


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
        """Yield ``jikimi_sends_total{result}``."""
        stats = self._sender.stats
        sends = CounterMetricFamily(
            "jikimi_sends", "Outbox delivery outcomes, by result.", labels=["result"]
        )
        for result in SEND_RESULTS:
            sends.add_metric([result], float(getattr(stats, result, 0)))
        yield sends


class RateLimitCount(Protocol):
    """How many 429 answers the Bot API gave this process (``bot.api_calls.RateLimitTally``)."""

    @property
    def count(self) -> int:
        """429 answers so far."""


class RateLimitCollector(Collector):
    """Exposes ``jikimi_telegram_429_total``: 429s to any call, sends and downloads alike."""

    def __init__(self, tally: RateLimitCount):
        self._tally = tally

    def collect(self) -> Iterator[Metric]:
        """Yield ``jikimi_telegram_429_total``."""
        yield CounterMetricFamily(
            "jikimi_telegram_429",
            "Bot API answers 429 Too Many Requests, to any method.",
            value=float(self._tally.count),
        )


@dataclass(frozen=True)
class DatabaseFigures:
    """What the last scrape read from the database."""

    pending: int
    sending: int
    oldest_age_seconds: float
    open_incidents: dict[tuple[str, str], int]  # (status, priority) -> count


class DatabaseCollector(Collector):
    """Exposes the figures of the last refresh, or only ``jikimi_database_up 0`` without them."""

    def __init__(self) -> None:
        self.figures: DatabaseFigures | None = None

    def collect(self) -> Iterator[Metric]:
        """Yield the database's gauges."""
        figures = self.figures
        yield GaugeMetricFamily(
            "jikimi_database_up",
            "Whether the database answered this scrape's queries in time.",
            value=0.0 if figures is None else 1.0,
        )
        if figures is None:
            return
        depth = GaugeMetricFamily(
            "jikimi_outbox_depth", "Unsettled outbox rows, by status.", labels=["status"]
        )
        depth.add_metric(["pending"], float(figures.pending))
        depth.add_metric(["sending"], float(figures.sending))
        yield depth
        yield GaugeMetricFamily(
            "jikimi_outbox_oldest_age_seconds",
            "Age of the oldest unsettled outbox row.",
            value=figures.oldest_age_seconds,
        )
        incidents = GaugeMetricFamily(
            "jikimi_open_incidents",
            "Open incidents, by status and priority.",
            labels=["status", "priority"],
        )
        for (status, priority), count in sorted(figures.open_incidents.items()):
            incidents.add_metric([status, priority], float(count))
        yield incidents


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
    repeated: Counter
    handler_seconds: Histogram
    handler_errors: Counter
    scrape_errors: Counter
    database: DatabaseCollector = field(default_factory=DatabaseCollector)

    def __post_init__(self) -> None:
        self.registry.register(self.database)

    def observe_update(self, update_type: str, seconds: float, *, failed: bool = False) -> None:
        """Record one handled update of ``update_type`` and how long it took."""
        self.updates.labels(type=update_type).inc()
        self.handler_seconds.labels(type=update_type).observe(seconds)
        if failed:
            self.handler_errors.labels(type=update_type).inc()

    def observe_repeat(self, update_type: str) -> None:
        """Record an update delivered again after it was handled (it was ignored)."""
        self.repeated.labels(type=update_type).inc()

    def watch_sender(self, sender: HasStats) -> None:
        """Expose the sender's counters (sends by result) in this registry."""
        self.registry.register(SenderCollector(sender))

    def watch_rate_limits(self, tally: RateLimitCount) -> None:
        """Expose the count of the Bot API's 429 answers in this registry."""
        self.registry.register(RateLimitCollector(tally))

    def watch_admission(self, admission: Admission) -> None:
        """Expose the updates being handled and waiting their turn in this registry."""
        self.registry.register(AdmissionCollector(admission))

    async def refresh(
        self,
        session_factory: async_sessionmaker[Any],
        *,
        now: datetime | None = None,
        within: float = REFRESH_TIMEOUT,
    ) -> bool:
        """Read the database's figures anew; False if it did not answer within ``within`` s."""
        moment = now or datetime.now(UTC)
        try:
            async with asyncio.timeout(within), session_factory() as session:
                depth = await depth_and_age(session=session, now=moment)
                incidents = await open_incident_counts(session=session)
        except Exception as error:  # a scrape must answer even while the database is down
            log.warning("metrics: database unavailable at scrape: %s", type(error).__name__)
            self.scrape_errors.inc()
            self.database.figures = None
            return False
        self.database.figures = DatabaseFigures(
            pending=depth.pending,
            sending=depth.sending,
            oldest_age_seconds=depth.oldest_age_seconds,
            open_incidents=dict(incidents),
        )
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
        repeated=Counter(
            "jikimi_updates_repeated",
            "Updates delivered again after they were handled, and ignored, by type.",
            ["type"],
            registry=registry,
        ),
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
        scrape_errors=Counter(
            "jikimi_metrics_scrape_errors",
            "Scrapes during which the database did not answer in time.",
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
