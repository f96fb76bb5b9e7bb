"""The audit trail: every action on an incident, who did it, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class IncidentEvent(SQLModel, table=True):
    """One entry of an incident's timeline (``actor_id`` None for the system)."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=False, index=True)
    )
    at: datetime = Field(default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    actor_name: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
