"""Citizens who report through a private chat with the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class Citizen(SQLModel, table=True):
    """A person who talks to the bot in private; anonymised (identity removed) on /forget."""

    __tablename__ = "citizen"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True, index=True)
    )
    language: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    consent_at: datetime | None = Field(default=None, sa_column=Column(TZDateTime(), nullable=True))
    forgotten_at: datetime | None = Field(
        default=None, sa_column=Column(TZDateTime(), nullable=True)
    )
    blocked: bool = Field(default=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
    last_seen_at: datetime | None = Field(
        default=None, sa_column=Column(TZDateTime(), nullable=True)
    )
