"""The outbox: one row per outgoing messenger action (see docs/outbox.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow

KINDS = frozenset(
    {
        "text",
        "photo",
        "album",
        "document",
        "voice",
        "location",
        "venue",
        "copy",
        "edit_text",
        "edit_caption",
        "edit_markup",
        "delete",
        "pin",
        "unpin",
        "create_topic",
        "edit_topic",
        "close_topic",
        "reopen_topic",
        "delete_topic",
    }
)


class Priority:
    """Delivery priorities: lower is sooner."""

    CITIZEN_REPLY = 0
    STAFF_NOTICE = 1
    BULK = 2


class OutboxStatus(StrEnum):
    """Lifecycle of an outbox row; the last four are terminal."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


UNSETTLED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


class OutboxBase(SQLModel):
    """What the domain says about a message to send."""

    chat_id: int = Field(sa_type=BigInteger)
    thread_id: int | None = Field(default=None, sa_type=BigInteger)
    thread_ref: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    target_ref: str | None = Field(default=None, max_length=200)
    correlation: str | None = Field(default=None, max_length=200, unique=True)
    priority: int = Field(default=Priority.STAFF_NOTICE)


class OutboxCreate(OutboxBase):
    """A message to enqueue."""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown outbox kind {value!r}")
        return value

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, value: int) -> int:
        if value not in (0, 1, 2):
            raise ValueError("priority must be 0 (citizen reply), 1 (staff notice) or 2 (bulk)")
        return value


class OutboxMessage(OutboxBase, table=True):
    """An outbox row with its delivery state."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_chat_status", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=TZDateTime)
    last_error: str | None = Field(default=None)
    result_message_id: int | None = Field(default=None, sa_type=BigInteger)
    result_thread_id: int | None = Field(default=None, sa_type=BigInteger)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=TZDateTime)
