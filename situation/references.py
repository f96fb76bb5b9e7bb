"""Human-readable reference numbers for reports and incidents.

Usage::

    report_reference(42, datetime(2026, 11, 22, tzinfo=UTC))    # "R-20261122-0042"
    incident_reference(7, now)                                   # "I-20261122-0007"

The number is the row's database id (unique and race-free across workers), the date is the
day the row was created in Korea (Asia/Seoul), so citizens see the date they reported on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
_PATTERN = re.compile(r"^(?P<kind>[RI])-(?P<date>\d{8})-(?P<number>\d{4,})$")


def _format(kind: str, number: int, created_at: datetime) -> str:
    if number < 1:
        raise ValueError("reference numbers start at 1")
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    day = created_at.astimezone(SEOUL).strftime("%Y%m%d")
    return f"{kind}-{day}-{number:04d}"


def report_reference(number: int, created_at: datetime) -> str:
    """Return the reference of report ``number`` created at ``created_at``."""
    return _format("R", number, created_at)


def incident_reference(number: int, created_at: datetime) -> str:
    """Return the reference of incident ``number`` opened at ``created_at``."""
    return _format("I", number, created_at)


def parse_reference(text: str) -> tuple[str, int] | None:
    """Return ``("R"|"I", number)`` for a reference typed by someone, else ``None``."""
    match = _PATTERN.match(text.strip().upper())
    if match is None:
        return None
    return match["kind"], int(match["number"])
