"""Settings of emergency communities (a section of the application settings).

Usage::

    config = CommunityConfig(quiet_hours=12)
    config.quiet_period   # timedelta(hours=12)
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel


class CommunityConfig(BaseModel):
    """How long links live and how long a quiet community stays open."""

    quiet_hours: float = 24.0
    warning_minutes: float = 60.0
    invite_link_hours: float = 24.0
    sweep_minutes: float = 5.0

    @property
    def quiet_period(self) -> timedelta:
        """Inactivity after which a community closes."""
        return timedelta(hours=self.quiet_hours)

    @property
    def warning_before(self) -> timedelta:
        """How long before the quiet close the members are warned."""
        return timedelta(minutes=self.warning_minutes)

    @property
    def invite_link_ttl(self) -> timedelta:
        """How long an invite link stays usable."""
        return timedelta(hours=self.invite_link_hours)


def config_of(settings: object) -> CommunityConfig:
    """Return the ``community`` section of the settings, or the defaults when there is none."""
    section = getattr(settings, "community", None)
    return section if isinstance(section, CommunityConfig) else CommunityConfig()
