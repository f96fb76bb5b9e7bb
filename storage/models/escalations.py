"""Timers of the situation room: acknowledgement deadlines, agency hand-overs, follow-ups, and
the scheduler's leader lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg,unused-ignore]
    return Column(TZDateTime(), nullable=nullable)


class IncidentDeadline(SQLModel, table=True):
    """The acknowledgement deadline of an incident and how far its escalation chain went.

    ``started_at`` is when the acknowledgement clock started (the opening, a reopening, or the
    earliest clock of a merge; None in rows from before it was stored: ``due_at`` less the
    ack time then). ``due_at`` is the base of the escalation ladder (step ``n`` is due at
    ``due_at + (n - 1) * ack``); ``step`` counts the escalation steps already posted;
    ``next_at`` is when the next one is due (None when the chain is over or cancelled by an
    acknowledgement).
    """

    __tablename__ = "incident_deadline"

    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), primary_key=True, autoincrement=False)
    )
    priority: str = Field(sa_column=Column(String(4), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    due_at: datetime = Field(sa_column=_ts(nullable=False))
    step: int = Field(default=0)
    next_at: datetime | None = Field(default=None, sa_column=Column(TZDateTime(), index=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class AgencyHandover(SQLModel, table=True):
    """An incident handed over to an outside agency (119 dispatch, a district office, ...).

    A merge moves the hand-over to the target incident (``incident_id``) and keeps the incident
    it was recorded on in ``origin_incident_id`` (None: never moved), whose export still lists
    it as moved.
    """

    __tablename__ = "agency_handover"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=False, index=True)
    )
    origin_incident_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=True, index=True),
    )
    agency: str = Field(sa_column=Column(String(32), nullable=False))
    method: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class FollowUp(SQLModel, table=True):
    """An "are you safe?" question to one citizen of a closed incident, and the answer."""

    __tablename__ = "incident_followup"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=False, index=True)
    )
    citizen_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    language: str = Field(default="ko", sa_column=Column(String(8), nullable=False))
    due_at: datetime = Field(sa_column=Column(TZDateTime(), nullable=False, index=True))
    asked_at: datetime | None = Field(default=None, sa_column=_ts())
    answer: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=_ts())
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SchedulerLease(SQLModel, table=True):
    """A named lease: the worker that holds it runs the scheduler until ``until``."""

    __tablename__ = "scheduler_lease"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    owner: str = Field(sa_column=Column(String(128), nullable=False))
    until: datetime = Field(sa_column=_ts(nullable=False))
