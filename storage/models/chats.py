"""Per-chat delivery state (whether the bot can still reach the chat)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime


class ChatState(SQLModel, table=True):
    """Whether a chat is reachable; set when Telegram answers 403."""

    __tablename__ = "chat_state"

    chat_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    unreachable: bool = Field(default=False)
    reason: str | None = Field(default=None)
    since: datetime | None = Field(default=None, sa_type=TZDateTime)
