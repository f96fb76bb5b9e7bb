"""Reference numbers: readable, dated in Korea, parseable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from situation.references import incident_reference, parse_reference, report_reference


def test_report_reference_uses_the_korean_date() -> None:
    # 20:00 UTC on the 21st is 05:00 on the 22nd in Seoul.
    assert report_reference(42, datetime(2026, 11, 21, 20, 0, tzinfo=UTC)) == "R-20261122-0042"


def test_incident_reference_and_large_numbers() -> None:
    at = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert incident_reference(7, at) == "I-20261122-0007"
    assert report_reference(123456, at) == "R-20261122-123456"


def test_parse_reference() -> None:
    assert parse_reference(" r-20261122-0042 ") == ("R", 42)
    assert parse_reference("I-20261122-0007") == ("I", 7)
    assert parse_reference("hello") is None


def test_numbers_start_at_one() -> None:
    with pytest.raises(ValueError):
        report_reference(0, datetime.now(UTC))
