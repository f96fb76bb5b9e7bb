"""Unreadable updates are kept with their raw JSON; the writer of a private one is answered."""

from __future__ import annotations

from sqlmodel import func, select

from situation.failures import keep_unreadable_update
from situation.texts import render
from storage.models.failures import FailedUpdate
from storage.models.outbox import OutboxMessage
from tests.situation.conftest import Steps, texts


async def test_an_unreadable_private_message_is_kept_and_its_writer_answered(steps: Steps) -> None:
    payload = {"update_id": 7, "message": {"chat": {"id": 501, "type": "private"}, "poll": {}}}
    async with steps.tx() as session:
        await keep_unreadable_update(
            session=session,
            update_id=7,
            payload=payload,
            problem="message.poll.question: Field required",
            reply_chat_id=501,
            lang="en",
        )
    async with steps.tx() as session:
        (kept,) = (await session.exec(select(FailedUpdate))).all()
    assert kept.update_id == 7 and kept.payload == payload
    assert kept.error == "unreadable: message.poll.question: Field required"
    assert texts(await steps.outbox(501)) == [render("en", "citizen_unsupported")]


async def test_an_unreadable_update_without_a_chat_is_kept_without_an_answer(steps: Steps) -> None:
    async with steps.tx() as session:
        await keep_unreadable_update(
            session=session,
            update_id=8,
            payload={"update_id": 8, "poll": {}},
            problem="x" * 5000,
            reply_chat_id=None,
            lang="ko",
        )
    async with steps.tx() as session:
        (kept,) = (await session.exec(select(FailedUpdate))).all()
        queued = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    assert len(kept.error) == 2000
    assert queued == 0
