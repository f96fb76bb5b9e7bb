"""Incidents: one situation on the ground, gathering every report about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class IncidentStatus:
    """The states of an incident; every state but ``closed`` is open."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    CLOSED = "closed"

    OPEN = (NEW, ACKNOWLEDGED, IN_PROGRESS, ESCALATED)


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg,unused-ignore]
    return Column(TZDateTime(), nullable=nullable)


class Incident(SQLModel, table=True):
    """A situation with a scenario, a priority, a place and the reports that describe it."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(
        default=None, sa_column=Column(String(32), nullable=True, unique=True, index=True)
    )
    scenario: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    priority: str = Field(default="P3", sa_column=Column(String(4), nullable=False))
    status: str = Field(
        default=IncidentStatus.NEW, sa_column=Column(String(16), nullable=False, index=True)
    )
    district_code: str | None = Field(default=None, sa_column=Column(String(16)))
    district_name: str | None = Field(default=None, sa_column=Column(String(64)))
    outside_service_area: bool = Field(default=False)
    latitude: float | None = Field(default=None, sa_column=Column(Float))
    longitude: float | None = Field(default=None, sa_column=Column(Float))
    located_reports: int = Field(default=0)
    report_count: int = Field(default=0)
    urgent: bool = Field(default=False)
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_report_at: datetime | None = Field(default=None, sa_column=_ts())
    acknowledged_at: datetime | None = Field(default=None, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts())
    closing_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    holder: str | None = Field(default=None, sa_column=Column(String(128)))
    merged_into_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("incident.id"), nullable=True)
    )
    topic_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
