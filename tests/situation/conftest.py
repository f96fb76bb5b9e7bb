"""Helpers for the domain tests: a session per step and the outbox as the citizen would see it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.intake import IncomingMessage, IntakeConfig, IntakeResult, receive_message
from storage.models.outbox import OutboxMessage

START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


class Steps:
    """Run domain calls each in its own committed transaction, like the bot does per update."""

    def __init__(self, session_factory: Any, config: IntakeConfig) -> None:
        self.session_factory = session_factory
        self.config = config
        self._message_id = 100

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        async with self.session_factory() as session, session.begin():
            yield session

    def next_id(self) -> int:
        self._message_id += 1
        return self._message_id

    async def send(
        self, user_id: int, *, now: datetime = START, lang: str = "ko", **fields: Any
    ) -> IntakeResult:
        fields.setdefault("kind", "text")
        message = IncomingMessage(
            user_id=user_id, chat_id=user_id, message_id=self.next_id(), lang=lang, **fields
        )
        async with self.tx() as session:
            return await receive_message(
                session=session, message=message, config=self.config, now=now
            )

    async def outbox(self, chat_id: int) -> list[dict[str, Any]]:
        async with self.tx() as session:
            rows = await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == chat_id)
                .order_by(col(OutboxMessage.id))
            )
            return [dict(row.payload, kind=row.kind, priority=row.priority) for row in rows.all()]


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def steps(session_factory: Any, media_dir: Path) -> Steps:
    return Steps(session_factory, IntakeConfig(media_dir=media_dir))


def texts(rows: list[dict[str, Any]]) -> list[str]:
    return [row.get("text", "") for row in rows]


Finder = Callable[[list[dict[str, Any]], str], int]
