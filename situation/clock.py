"""Time as the application sees it: real in production, movable in tests and the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """A clock that returns aware UTC datetimes and can be moved forward for tests."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset

    def now(self) -> datetime:
        """Return the current time (UTC, timezone-aware)."""
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta`` (tests and the demo only)."""
        self._offset += delta

    @property
    def offset(self) -> timedelta:
        """How far this clock runs ahead of real time."""
        return self._offset
