"""Citizens who report through a private chat with the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Index, String, false, text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class Citizen(SQLModel, table=True):
    """A person who talks to the bot in private; anonymised (identity removed) on /forget, or by
    the retention purge once quiet for longer than the retention period."""

    __tablename__ = "citizen"
    # The retention purge looks for known citizens quiet since the cutoff: a partial index holds
    # the known ones (an anonymised citizen leaves it), by when they were last active.
    __table_args__ = (
        Index(
            "ix_citizen_known_seen",
            "last_seen_at",
            sqlite_where=text("telegram_user_id IS NOT NULL"),
            postgresql_where=text("telegram_user_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True, index=True)
    )
    # The language to answer in: chosen with /lang when ``language_chosen``, else the one the
    # citizen last clearly wrote a report in (see situation.language); None: Telegram's.
    language: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    language_chosen: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    consent_at: datetime | None = Field(default=None, sa_column=Column(TZDateTime(), nullable=True))
    forgotten_at: datetime | None = Field(
        default=None, sa_column=Column(TZDateTime(), nullable=True)
    )
    blocked: bool = Field(default=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=False)
    )
    # When the citizen was last active (within minutes, see storage.citizens); set for every
    # known citizen, None once anonymised.
    last_seen_at: datetime | None = Field(
        default=None, sa_column=Column(TZDateTime(), nullable=True)
    )
