"""The forum topic of each incident in the staff supergroup, and its card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class TopicState:
    """The states of an incident topic."""

    OPEN = "open"
    CLOSED = "closed"


class IncidentTopic(SQLModel, table=True):
    """One incident's topic; ``generation`` grows each time the topic is recreated."""

    __tablename__ = "incident_topic"

    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), primary_key=True, autoincrement=False)
    )
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    generation: int = Field(default=1)
    name: str = Field(default="", sa_column=Column(String(128), nullable=False))
    state: str = Field(default=TopicState.OPEN, sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
