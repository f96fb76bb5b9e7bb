"""Which open incident a new report belongs to: same scenario, close in space and time.

Usage::

    rule = ClusterRule(radius_m=300, window=timedelta(hours=2))
    match = nearest_incident(candidates, point=(37.56, 126.97), at=now, rule=rule)

Pure functions over plain values; the storage layer supplies the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_RADIUS_M = 300.0
DEFAULT_WINDOW = timedelta(hours=2)


@dataclass(frozen=True)
class ClusterRule:
    """How close (metres) and how recent (since the incident's last report) a report must be."""

    radius_m: float = DEFAULT_RADIUS_M
    window: timedelta = DEFAULT_WINDOW


@dataclass(frozen=True)
class Candidate:
    """An open incident as clustering sees it."""

    incident_id: int
    scenario: str | None
    latitude: float | None
    longitude: float | None
    last_report_at: datetime


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in metres between two (lat, lon) points."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    dlat, dlon = lat2 - lat1, lon2 - lon1
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def nearest_incident(
    candidates: Iterable[Candidate],
    *,
    scenario: str,
    point: tuple[float, float],
    at: datetime,
    rule: ClusterRule,
) -> Candidate | None:
    """Return the closest incident of ``scenario`` within the rule's radius and window."""
    best: tuple[float, Candidate] | None = None
    for candidate in candidates:
        if candidate.scenario != scenario:
            continue
        if candidate.latitude is None or candidate.longitude is None:
            continue
        if _aware(at) - _aware(candidate.last_report_at) > rule.window:
            continue
        distance = haversine_m(point, (candidate.latitude, candidate.longitude))
        if distance > rule.radius_m:
            continue
        if best is None or distance < best[0]:
            best = (distance, candidate)
    return best[1] if best else None


def moved_centroid(
    centroid: tuple[float, float], count: int, point: tuple[float, float]
) -> tuple[float, float]:
    """Return the mean position after adding ``point`` to ``count`` located reports."""
    lat, lon = centroid
    return (
        (lat * count + point[0]) / (count + 1),
        (lon * count + point[1]) / (count + 1),
    )
