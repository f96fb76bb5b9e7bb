"""Percentiles and the /stats figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from situation.stats import compute_stats, percentile, render_stats
from storage.models.incidents import Incident
from tests.situation.conftest import START


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.5) == 5.0 and percentile(values, 0.9) == 9.0


async def test_time_to_acknowledge_and_close(session_factory: Any) -> None:
    async with session_factory() as session, session.begin():
        for minutes, district in ((2, "중구"), (4, "중구"), (10, "강남구")):
            session.add(
                Incident(
                    scenario="fire",
                    district_name=district,
                    opened_at=START,
                    acknowledged_at=START + timedelta(minutes=minutes),
                    closed_at=START + timedelta(minutes=minutes * 10),
                )
            )
        session.add(Incident(scenario="flood", opened_at=START - timedelta(days=30)))
    async with session_factory() as session:
        stats = await compute_stats(
            session=session,
            since=START - timedelta(days=1),
            until=START + timedelta(days=1),
            timezone="Asia/Seoul",
        )
    assert stats.incidents == 3 and stats.by_scenario == {"fire": 3}
    assert stats.by_district == {"중구": 2, "강남구": 1}
    assert (stats.ack_p50, stats.ack_p90) == (4.0, 10.0)
    assert (stats.close_p50, stats.close_p90) == (40.0, 100.0)
    text = render_stats(stats, lang="en", timezone="Asia/Seoul")
    assert "median 4.0 min" in text and "p90 100.0 min" in text and "Fire 3" in text
