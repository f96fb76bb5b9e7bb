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

    GUIDANCE = 0  # the action manual a citizen needs now: before every other message
    CITIZEN_REPLY = 1
    STAFF_NOTICE = 2
    BULK = 3


PRIORITIES = (Priority.GUIDANCE, Priority.CITIZEN_REPLY, Priority.STAFF_NOTICE, Priority.BULK)


class OutboxStatus(StrEnum):
    """Lifecycle of an outbox row; the last four are terminal."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


UNSETTLED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


class OutboxError(StrEnum):
    """Codes that start ``last_error`` (``"<code>: <details>"``); see docs/outbox.md."""

    RATE_LIMITED = "rate_limited"  # 429, retried after retry_after (not terminal)
    NETWORK = "network"  # network error or timeout; retried with backoff, then failed
    SERVER_ERROR = "server_error"  # 5xx; retried with backoff, then failed
    DATABASE = "database"  # older versions: references unreadable; retried, not counted
    FORBIDDEN = "forbidden"  # 403: row unreachable, chat_state marked unreachable
    BAD_REQUEST = "bad_request"  # other 400s: failed, not retried
    TOPIC_CLOSED = "topic_closed"  # the forum topic is closed: reopen it, then enqueue again
    THREAD_NOT_FOUND = "thread_not_found"  # the forum topic is gone: create a new one
    CHAT_MIGRATED = "chat_migrated"  # the group became a supergroup; details hold the new id
    TOO_LARGE = "too_large"  # 413: the file is too big
    REF_MISSING = "ref_missing"  # thread_ref/target_ref names no outbox row
    REF_FAILED = "ref_failed"  # the referenced row failed, so this one cannot be sent
    INVALID_PAYLOAD = "invalid_payload"  # the payload does not fit the kind
    INTERNAL = "internal"  # an unexpected error in the sender (logged with its traceback)


def error_code(last_error: str | None) -> OutboxError | None:
    """Return the code at the start of a row's ``last_error`` (None when there is none)."""
    if not last_error:
        return None
    head = last_error.split(":", 1)[0].strip()
    try:
        return OutboxError(head)
    except ValueError:
        return None


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
        if value not in PRIORITIES:
            raise ValueError(
                "priority must be 0 (guidance), 1 (citizen reply), 2 (staff notice) or 3 (bulk)"
            )
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
