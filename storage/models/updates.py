"""Processed Telegram updates, so a redelivered update changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class ProcessedUpdate(SQLModel, table=True):
    """An update_id one bot has already handled."""

    __tablename__ = "processed_update"

    bot_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    processed_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime, index=True)
