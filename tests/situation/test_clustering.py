"""Clustering: same scenario, within the radius and the window, nearest wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from situation.clustering import (
    Candidate,
    ClusterRule,
    haversine_m,
    moved_centroid,
    nearest_incident,
)

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
CITY_HALL = (37.5663, 126.9779)


def offset_north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres / 111_195.0, point[1])


def candidate(
    i: int, point: tuple[float, float], scenario: str = "fire", age_min: int = 5
) -> Candidate:
    return Candidate(i, scenario, point[0], point[1], NOW - timedelta(minutes=age_min))


def test_haversine_known_distance() -> None:
    # Seoul City Hall to Incheon City Hall is about 27 km.
    assert haversine_m(CITY_HALL, (37.4563, 126.7052)) == pytest.approx(27_000, rel=0.05)
    assert haversine_m(CITY_HALL, offset_north(CITY_HALL, 100)) == pytest.approx(100, rel=0.01)


def test_joins_nearest_within_radius() -> None:
    rule = ClusterRule(radius_m=300, window=timedelta(hours=2))
    near = candidate(1, offset_north(CITY_HALL, 100))
    nearer = candidate(2, offset_north(CITY_HALL, 50))
    far = candidate(3, offset_north(CITY_HALL, 1000))
    found = nearest_incident(
        [near, far, nearer], scenario="fire", point=CITY_HALL, at=NOW, rule=rule
    )
    assert found == nearer


def test_other_scenario_far_or_stale_does_not_join() -> None:
    rule = ClusterRule(radius_m=300, window=timedelta(minutes=60))
    candidates = [
        candidate(1, CITY_HALL, scenario="flood"),
        candidate(2, offset_north(CITY_HALL, 400)),
        candidate(3, CITY_HALL, age_min=61),
        Candidate(4, "fire", None, None, NOW),
    ]
    assert nearest_incident(candidates, scenario="fire", point=CITY_HALL, at=NOW, rule=rule) is None


def test_wider_rule_reaches_further() -> None:
    wildfire = ClusterRule(radius_m=3000, window=timedelta(hours=12))
    far = candidate(1, offset_north(CITY_HALL, 2000), scenario="wildfire", age_min=300)
    assert (
        nearest_incident([far], scenario="wildfire", point=CITY_HALL, at=NOW, rule=wildfire) == far
    )


def test_centroid_is_the_running_mean() -> None:
    assert moved_centroid((37.0, 127.0), 1, (37.2, 127.2)) == pytest.approx((37.1, 127.1))
    assert moved_centroid((37.1, 127.1), 2, (37.4, 127.4)) == pytest.approx((37.2, 127.2))
