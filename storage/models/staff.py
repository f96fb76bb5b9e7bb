"""Situation-room staff: who may act in the staff supergroup, with which role and team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class StaffRole:
    """The roles of the situation room, weakest first."""

    STAFF = "staff"
    LEAD = "lead"
    ADMIN = "admin"

    ALL = (STAFF, LEAD, ADMIN)


class StaffMember(SQLModel, table=True):
    """A registered member of the situation room (``active`` False once removed)."""

    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(128), nullable=False))
    role: str = Field(default=StaffRole.STAFF, sa_column=Column(String(16), nullable=False))
    team: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
