"""Percentiles and the /stats figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.html_entities import format_text
from situation.limits import CUT, TEXT_LIMIT, utf16_len
from situation.stats import (
    DEFAULT_DAYS,
    MAX_DAYS,
    Stats,
    compute_stats,
    percentile,
    period_days,
    render_stats,
)
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
    (text,) = render_stats(stats, lang="en", timezone="Asia/Seoul")
    assert "median 4.0 min" in text and "p90 100.0 min" in text and "Fire 3" in text


def test_the_figures_of_a_long_period_fill_several_valid_messages() -> None:
    days = {f"{month:02d}-{day:02d}": 12 for month in range(1, 13) for day in range(1, 29)}
    stats = Stats(
        since=START - timedelta(days=365),
        until=START,
        reports=12 * len(days),
        incidents=12 * len(days),
        reports_by_day=days,
        incidents_by_day=days,
        by_scenario={"fire": 5},
        ack_minutes=[4.0],
    )
    texts = render_stats(stats, lang="en", timezone="Asia/Seoul")
    shown = [format_text(text, "HTML")[0] for text in texts]
    assert len(texts) == 2 and all(utf16_len(text) <= TEXT_LIMIT for text in shown)
    assert shown[0].startswith("📊 Situation-room figures")
    said = " ".join(text.removeprefix(CUT).removesuffix(CUT) for text in shown)
    assert said.count("12-28 12") == 2 and "Follow-up answers: -" in shown[-1]


def test_the_period_is_a_number_of_days_within_bounds() -> None:
    assert period_days(None) == period_days("") == period_days("week") == DEFAULT_DAYS
    assert period_days(" 30 ") == 30
    assert period_days("0") == 1
    assert period_days("-5") == DEFAULT_DAYS
    assert period_days("٣") == DEFAULT_DAYS  # a digit, but not one staff type for days
    assert period_days("99999999999999999999") == MAX_DAYS
    datetime.now(UTC) - timedelta(days=period_days("99999999999999999999"))  # no overflow
