"""The staff-room projector posts reports after the citizens' transactions commit."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from bot.projector import StaffRoomProjector
from situation.clock import Clock
from situation.intake import IncomingMessage, IncomingPlace, IntakeConfig, receive_message
from situation.staffroom import RoomConfig, StaffRoom
from storage.models.outbox import OutboxMessage
from storage.outbox import mark_sent
from tests.outbox_leases import TEST_WORKER, lease
from tests.situation.conftest import START

STAFF_CHAT = -1001234567890
ROOM = RoomConfig(chat_id=STAFF_CHAT)


class FixedClock(Clock):
    """Always the same instant, so the intake and the projector agree."""

    def now(self) -> Any:
        return START


async def _wait_idle(projector: StaffRoomProjector) -> None:
    for _ in range(200):
        if not projector.busy():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the projector stayed busy")


async def _report(factory: Any, listener: StaffRoom, user_id: int, tmp_media: Any) -> None:
    config = IntakeConfig(media_dir=tmp_media)
    for message_id, fields in enumerate(
        (
            {"kind": "text", "text": "불이 났어요"},
            {"kind": "location", "place": IncomingPlace(latitude=37.5663, longitude=126.9779)},
        ),
        start=user_id * 10,
    ):
        message = IncomingMessage(
            user_id=user_id, chat_id=user_id, message_id=message_id, lang="ko", **fields
        )
        async with factory() as session, session.begin():
            await receive_message(
                session=session, message=message, config=config, now=START, listeners=(listener,)
            )


async def _staff_kinds(factory: Any) -> list[str]:
    async with factory() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == STAFF_CHAT)
            .order_by(col(OutboxMessage.id))
        )
        return [row.kind for row in rows.all()]


async def test_a_commit_wakes_the_projector_which_opens_the_topic(
    session_factory: Any, tmp_path: Any
) -> None:
    projector = StaffRoomProjector(
        session_factory=session_factory, room=ROOM, clock=FixedClock(), interval=0
    )
    await projector.start()
    try:
        await _report(session_factory, StaffRoom(ROOM, wake=projector.wake), 501, tmp_path)
        await _wait_idle(projector)
        assert (await _staff_kinds(session_factory))[:3] == ["create_topic", "text", "pin"]
        assert projector.posted == 1
    finally:
        await projector.stop()


async def test_a_failed_pass_is_retried_and_loses_nothing(
    session_factory: Any, tmp_path: Any
) -> None:
    calls = {"n": 0}

    def flaky_factory() -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("database briefly down")
        return session_factory()

    projector = StaffRoomProjector(
        session_factory=flaky_factory,  # type: ignore[arg-type]
        room=ROOM,
        clock=FixedClock(),
        interval=0,
        retry_after=0.05,
    )
    await _report(session_factory, StaffRoom(ROOM, wake=projector.wake), 502, tmp_path)
    await projector.start()
    try:
        await _wait_idle(projector)
        assert calls["n"] >= 2
        assert (await _staff_kinds(session_factory))[:1] == ["create_topic"]
    finally:
        await projector.stop()


async def test_a_full_staff_queue_defers_passes_until_the_sender_caught_up(
    session_factory: Any, tmp_path: Any
) -> None:
    room = RoomConfig(chat_id=STAFF_CHAT, queue_limit=4)
    projector = StaffRoomProjector(
        session_factory=session_factory, room=room, clock=FixedClock(), interval=0, recheck=0.02
    )
    listener = StaffRoom(room, wake=projector.wake)
    await projector.start()
    try:
        await _report(session_factory, listener, 501, tmp_path)
        await _wait_idle(projector)
        assert await _staff_kinds(session_factory) == ["create_topic", "text", "pin", "location"]
        for user in (502, 503, 504):
            await _report(session_factory, listener, user, tmp_path)
        await asyncio.sleep(0.2)
        assert projector.deferred >= 2 and projector.busy()  # still looking, not given up
        assert len(await _staff_kinds(session_factory)) == 4

        async with session_factory() as session, session.begin():
            queued = (
                await session.exec(
                    select(OutboxMessage).where(col(OutboxMessage.chat_id) == STAFF_CHAT)
                )
            ).all()
            for row in queued:
                await lease(session, row.id or 0)
                await mark_sent(
                    session=session, message_id=row.id or 0, worker_id=TEST_WORKER, now=START
                )
        await _wait_idle(projector)
        assert (await _staff_kinds(session_factory))[4:] == ["text", "edit_text"]  # one digest
        assert projector.posted == 4
    finally:
        await projector.stop()
