"""End to end, polling: an update the bot cannot read is kept and answered; nothing waits on it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import GetUpdates, TelegramMethod
from sqlmodel import col, select

from storage.models.failures import FailedUpdate
from storage.models.updates import ProcessedUpdate
from tests.e2e.citizen_helpers import bot_texts, reports_of, settle
from tests.e2e.conftest import E2E
from tests.fixtures.updates import POLL_QUESTION, poll_message


class Batches(BaseRequestMiddleware):
    """Records the update ids of every getUpdates answer, batch by batch."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        """Pass the call on; note what a getUpdates brought."""
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates) and result:
            self.seen.append(
                [u["update_id"] if isinstance(u, dict) else u.update_id for u in result]
            )
        return result


async def failed_updates(app: E2E) -> list[FailedUpdate]:
    """Every failed update kept, oldest first."""
    async with app.runtime.session_factory() as session:
        return list((await session.exec(select(FailedUpdate).order_by(col(FailedUpdate.id)))).all())


async def processed(app: E2E, update_id: int) -> bool:
    """Whether the update's id was claimed as processed."""
    async with app.runtime.session_factory() as session:
        rows = await session.exec(
            select(ProcessedUpdate).where(col(ProcessedUpdate.update_id) == update_id)
        )
        return rows.one_or_none() is not None


async def test_a_malformed_update_between_two_good_ones_stalls_nothing(
    app: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    """Three updates in one batch, the middle one unreadable: both good ones are answered, the
    bad one is kept with its raw JSON, the batch is confirmed, and its writer is answered in
    English after the answers to their greeting just before it (the chat's order holds).
    """
    first, writer, last = (
        await app.citizen("첫째", "ko"),
        await app.citizen("Poll Writer", "en"),
        await app.citizen("셋째", "ko"),
    )
    batches = Batches()
    app.runtime.bot.session.middleware(batches)
    # The poll waiting now returns the greeting; the next one waits a second before the
    # sandbox reads its queue: the three updates below arrive in that second, one batch.
    await app.client.fault("slow", count=1, delay=1.0, method="getUpdates")
    await app.client.send_text(writer.id, writer.id, "Hello, good evening")
    await app.client.send_text(first.id, first.id, "지하차도가 침수됐어요")
    bad = await app.client.inject_update("message", poll_message(writer.id, writer.name, "en"))
    await app.client.send_text(last.id, last.id, "가로수가 쓰러졌어요")
    assert bad is not None
    with caplog.at_level(logging.INFO):
        await settle(app, first.id, writer.id, last.id, timeout=20)

    bad_id = bad["update_id"]
    assert any(batch[0] < bad_id < batch[-1] for batch in batches.seen if bad_id in batch)
    assert await reports_of(app, first.id) and await reports_of(app, last.id)
    assert await bot_texts(app, first.id) and await bot_texts(app, last.id)
    (kept,) = await failed_updates(app)
    assert kept.update_id == bad["update_id"]
    assert kept.payload == bad
    assert kept.error.startswith("unreadable: message.poll.")
    assert "cannot be used for a report" in (await bot_texts(app, writer.id))[-1]
    assert await processed(app, bad["update_id"])
    assert await app.client.pending_updates(app.token) == 0
    assert f"update {bad['update_id']} could not be read (message.poll." in caplog.text
    assert "Failed to fetch updates" not in caplog.text
    assert POLL_QUESTION not in caplog.text and "Poll Writer" not in caplog.text


async def test_a_malformed_update_alone_in_its_batch_is_passed(app: E2E) -> None:
    """The offset moves past an unreadable update that ends its batch; the next one is answered,
    and a Korean writer is answered in Korean."""
    writer = await app.citizen("투표", "ko")
    await app.client.start_bot(writer.id)
    await settle(app, writer.id)
    bad = await app.client.inject_update("message", poll_message(writer.id, writer.name, "ko"))
    assert bad is not None
    await settle(app, writer.id)
    assert await app.client.pending_updates(app.token) == 0
    assert "죄송합니다" in (await bot_texts(app, writer.id))[-1]

    other = await app.citizen("다음 시민", "ko")
    await app.client.send_text(other.id, other.id, "건물에서 연기가 나요")
    await settle(app, other.id, timeout=10)
    assert await reports_of(app, other.id)
    assert [row.update_id for row in await failed_updates(app)] == [bad["update_id"]]


async def test_a_malformed_group_update_is_kept_without_an_answer(app: E2E) -> None:
    """An unreadable update with no private chat to answer is kept, and nobody is written to."""
    staff = app.world.staff[0]
    before = await app.client.messages(app.world.staff_chat_id)
    payload = {
        "message_id": 7002,
        "date": 1_700_000_000,
        "chat": {"id": app.world.staff_chat_id, "type": "supergroup", "title": "상황실"},
        "from": {"id": staff.id, "is_bot": False, "first_name": staff.name},
        "poll": {"id": "p2", "question": "?"},
    }
    bad = await app.client.inject_update("message", payload)
    assert bad is not None
    await app.settle()
    (kept,) = await failed_updates(app)
    assert kept.update_id == bad["update_id"] and kept.payload == bad
    assert await app.client.messages(app.world.staff_chat_id) == before
