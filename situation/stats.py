"""Situation-room figures: reports and incidents by day, scenario and district; time to
acknowledge and to close (median and 90th percentile); follow-up answers.

Usage::

    figures = await compute_stats(session=session, since=now - timedelta(days=7), until=now,
                                  timezone="Asia/Seoul")
    texts = render_stats(figures, lang="ko", timezone="Asia/Seoul")
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.cards import scenario_name
from situation.limits import TEXT_LIMIT, split_html
from situation.texts import render
from storage.models.escalations import FollowUp
from storage.models.incidents import Incident
from storage.models.reports import Report, ReportStatus

DEFAULT_DAYS = 7
MAX_DAYS = 3660
"""Ten years: a longer period would only overflow the date arithmetic, not add figures."""


def period_days(words: str | None) -> int:
    """The days ``/stats`` covers: a number of days after the command, clamped to 1..MAX_DAYS.

    Anything that is not a number of days gets the default week.
    """
    cleaned = (words or "").strip()
    if not cleaned.isdecimal() or not cleaned.isascii():
        return DEFAULT_DAYS
    return max(1, min(MAX_DAYS, int(cleaned)))


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile (``fraction`` in 0..1) of ``values``, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Stats:
    """Figures over a period."""

    since: datetime
    until: datetime
    reports: int = 0
    incidents: int = 0
    reports_by_day: dict[str, int] = field(default_factory=dict)
    incidents_by_day: dict[str, int] = field(default_factory=dict)
    by_scenario: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)
    ack_minutes: list[float] = field(default_factory=list)
    close_minutes: list[float] = field(default_factory=list)
    followups: dict[str, int] = field(default_factory=dict)

    @property
    def ack_p50(self) -> float | None:
        """Median minutes to acknowledge."""
        return percentile(self.ack_minutes, 0.5)

    @property
    def ack_p90(self) -> float | None:
        """90th-percentile minutes to acknowledge."""
        return percentile(self.ack_minutes, 0.9)

    @property
    def close_p50(self) -> float | None:
        """Median minutes to close."""
        return percentile(self.close_minutes, 0.5)

    @property
    def close_p90(self) -> float | None:
        """90th-percentile minutes to close."""
        return percentile(self.close_minutes, 0.9)


async def compute_stats(
    *, session: AsyncSession, since: datetime, until: datetime, timezone: str
) -> Stats:
    """Compute the figures of reports filed and incidents opened in ``[since, until)``."""
    zone = ZoneInfo(timezone)
    stats = Stats(since=since, until=until)
    reports = (
        await session.exec(
            select(Report).where(
                col(Report.status) == ReportStatus.FILED,
                col(Report.created_at) >= since,
                col(Report.created_at) < until,
            )
        )
    ).all()
    incidents = (
        await session.exec(
            select(Incident).where(
                col(Incident.opened_at) >= since,
                col(Incident.opened_at) < until,
                col(Incident.merged_into_id).is_(None),
            )
        )
    ).all()
    stats.reports = len(reports)
    stats.incidents = len(incidents)
    stats.reports_by_day = dict(
        sorted(Counter(r.created_at.astimezone(zone).strftime("%m-%d") for r in reports).items())
    )
    stats.incidents_by_day = dict(
        sorted(Counter(i.opened_at.astimezone(zone).strftime("%m-%d") for i in incidents).items())
    )
    stats.by_scenario = dict(Counter(i.scenario or "-" for i in incidents).most_common())
    stats.by_district = dict(Counter(i.district_name or "-" for i in incidents).most_common())
    stats.ack_minutes = [
        (i.acknowledged_at - i.opened_at).total_seconds() / 60
        for i in incidents
        if i.acknowledged_at
    ]
    stats.close_minutes = [
        (i.closed_at - i.opened_at).total_seconds() / 60 for i in incidents if i.closed_at
    ]
    ids = [i.id for i in incidents if i.id is not None]
    if ids:
        answers = (
            await session.exec(
                select(col(FollowUp.answer)).where(
                    col(FollowUp.incident_id).in_(ids), col(FollowUp.answer).is_not(None)
                )
            )
        ).all()
        stats.followups = dict(Counter(str(answer) for answer in answers))
    return stats


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_stats(stats: Stats, *, lang: str, timezone: str) -> list[str]:
    """Render the figures as staff messages: one, or more when a long period's days need them.

    The days of a long period fill more than one message; the figures are cut between their
    lines, or between two days, never inside the markup.
    """
    zone = ZoneInfo(timezone)
    text = render(
        lang,
        "staff_stats",
        since=stats.since.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        until=stats.until.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        reports=stats.reports,
        incidents=stats.incidents,
        reports_by_day=stats.reports_by_day,
        incidents_by_day=stats.incidents_by_day,
        by_scenario={
            (scenario_name(slug, lang) or slug): count
            for slug, count in list(stats.by_scenario.items())[:10]
        },
        by_district=dict(list(stats.by_district.items())[:10]),
        ack_p50=_minutes(stats.ack_p50),
        ack_p90=_minutes(stats.ack_p90),
        close_p50=_minutes(stats.close_p50),
        close_p90=_minutes(stats.close_p90),
        followups=stats.followups,
    )
    return split_html(text, TEXT_LIMIT)
