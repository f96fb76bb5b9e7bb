"""Duty roster state: leads' overrides of the rotation and the shift hand-overs posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class DutyOverride(SQLModel, table=True):
    """A lead put ``team`` on duty from ``starts_at`` to ``ends_at`` instead of the rotation."""

    __tablename__ = "duty_override"

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(sa_column=Column(String(64), nullable=False))
    starts_at: datetime = Field(sa_column=Column(TZDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(TZDateTime(), nullable=False))
    set_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )


class ShiftHandover(SQLModel, table=True):
    """A shift change whose hand-over digest was posted (one row per shift start)."""

    __tablename__ = "shift_handover"
    __table_args__ = (UniqueConstraint("shift_start", name="uq_shift_handover_shift_start"),)

    id: int | None = Field(default=None, primary_key=True)
    shift_start: datetime = Field(sa_column=Column(TZDateTime(), nullable=False))
    outgoing_team: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    incoming_team: str = Field(sa_column=Column(String(64), nullable=False))
    posted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
