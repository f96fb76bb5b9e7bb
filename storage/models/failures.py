"""Updates whose processing failed, kept for recovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime


def _now() -> datetime:
    return datetime.now(UTC)


class FailedUpdate(SQLModel, table=True):
    """A raw update that a handler could not process, with the error."""

    __tablename__ = "failed_update"

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(TZDateTime(), nullable=False)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(TZDateTime(), nullable=True)
    )
