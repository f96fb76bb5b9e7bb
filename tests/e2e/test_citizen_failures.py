"""End to end: when handling a citizen's update fails, it is kept and the citizen is told."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from handlers.citizen import reports as report_handlers
from storage.models.failures import FailedUpdate
from tests.e2e.citizen_helpers import bot_texts, reports_of, settle
from tests.e2e.conftest import E2E


async def _failed_updates(app: E2E) -> list[FailedUpdate]:
    async with app.runtime.session_factory() as session:
        return list((await session.exec(select(FailedUpdate))).all())


@pytest.mark.parametrize(
    ("language", "words", "expected"),
    [
        ("ko", "지하차도에 물이 차올라요", "문제가 생겼습니다"),
        ("en", "water is rising in the underpass", "something went wrong"),
    ],
)
async def test_a_failing_handler_keeps_the_message_and_tells_the_citizen(
    app: E2E, monkeypatch: pytest.MonkeyPatch, language: str, words: str, expected: str
) -> None:
    async def broken(**_kwargs: Any) -> None:
        raise RuntimeError("a bug in intake")

    monkeypatch.setattr(report_handlers, "receive_message", broken)
    citizen = await app.citizen("버그", language)
    await app.client.send_text(citizen.id, citizen.id, words)
    await settle(app, citizen.id)

    (failed,) = await _failed_updates(app)
    assert failed.payload["message"]["text"] == words
    assert failed.error == "RuntimeError: a bug in intake"
    (answer,) = await bot_texts(app, citizen.id)
    assert expected in answer and "119" in answer
    assert await reports_of(app, citizen.id) == []


async def test_a_message_waits_out_a_database_outage_longer_than_a_few_seconds(
    app: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six seconds without a database: the report is stored and answered once it is back."""
    from bot.middlewares import database

    loop = asyncio.get_running_loop()
    back_at = loop.time() + 6.0
    claim = database.claim_update_from

    async def unavailable(**kwargs: Any) -> Any:
        if loop.time() < back_at:
            raise OperationalError("claim", {}, ConnectionRefusedError("database is down"))
        return await claim(**kwargs)

    monkeypatch.setattr(database, "claim_update_from", unavailable)
    citizen = await app.citizen("정전", "ko")
    await app.client.send_text(citizen.id, citizen.id, "지하차도에 물이 차올라요")
    await settle(app, citizen.id, timeout=40)

    assert loop.time() >= back_at
    (report,) = await reports_of(app, citizen.id)
    assert report.text == "지하차도에 물이 차올라요"
    assert await bot_texts(app, citizen.id)
    assert await _failed_updates(app) == []
