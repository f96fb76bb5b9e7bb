"""Helpers for the situation-room end-to-end tests: seed staff, find topics, read cards."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.middlewares.roles import build_room
from bot.scheduler import SweepReport, sweep_once
from situation.roles import seed_demo_staff
from storage.models.outbox import OutboxMessage, OutboxStatus
from tests.e2e.citizen_helpers import CITY_HALL
from tests.e2e.conftest import E2E


async def seed_staff(app: E2E) -> None:
    """Register the demo world's staff with their roles (the harness did; this is idempotent)."""
    async with app.runtime.session_factory() as session, session.begin():
        await seed_demo_staff(
            session=session,
            world_staff=[(person.id, person.name, person.role) for person in app.world.staff],
        )


async def report_fire(
    app: E2E, name: str = "김민지", *, where: tuple[float, float] = CITY_HALL
) -> Any:
    """A new citizen reports a fire with a location; return the citizen."""
    citizen = await app.citizen(name, "ko")
    await app.client.send_text(citizen.id, citizen.id, "아파트 3층 복도에서 불이 났어요")
    await app.client.send_location(citizen.id, citizen.id, *where)
    await app.settle()
    return citizen


async def topics(app: E2E) -> list[dict[str, Any]]:
    """Return the staff supergroup's incident topics (General left out), oldest first."""
    found = await app.client.topics(app.world.staff_chat_id)
    return [topic for topic in found if topic.get("message_thread_id") not in (None, 1)]


async def topic_messages(app: E2E, thread_id: int) -> list[dict[str, Any]]:
    """Return what a topic shows, oldest first."""
    return await app.client.messages(app.world.staff_chat_id, message_thread_id=thread_id)


async def card(app: E2E, thread_id: int) -> dict[str, Any]:
    """Return the incident card: the pinned bot message of the topic."""
    for message in await topic_messages(app, thread_id):
        if message.get("pinned") and message.get("from", {}).get("is_bot"):
            return message
    raise AssertionError("no pinned card in the topic")


def button_data(message: dict[str, Any], prefix: str) -> str:
    """Return the callback data of the card's button whose data starts with ``prefix``."""
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if str(button.get("callback_data", "")).startswith(prefix):
                return str(button["callback_data"])
    raise AssertionError(f"no {prefix!r} button on the card")


async def press(app: E2E, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a card button as ``user_id`` and wait until the bot settled."""
    answer = await app.client.press_button(
        user_id, app.world.staff_chat_id, int(message["message_id"]), data
    )
    await app.settle()
    return answer


async def sweep(app: E2E) -> SweepReport:
    """Run the situation-room sweep now (on the app's clock) and settle."""
    service = app.runtime.dispatcher.workflow_data.get("scheduler_service")
    report = await sweep_once(
        session_factory=app.runtime.session_factory,
        room=build_room(app.settings),
        now=app.clock.now(),
        lock=service.context.lock if service is not None else None,
    )
    await app.settle()
    return report


def text_of(message: dict[str, Any]) -> str:
    """Return a message's text or caption."""
    return str(message.get("text") or message.get("caption") or "")


async def failed_rows(app: E2E) -> list[tuple[str, str | None]]:
    """Return the kind and error of every outbox row the sender gave up on."""
    async with app.runtime.session_factory() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.FAILED.value)
        )
        return [(row.kind, row.last_error) for row in rows.all()]
