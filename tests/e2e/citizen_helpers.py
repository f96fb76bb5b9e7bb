"""Helpers shared by the citizen end-to-end tests: read the database and the chat."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from storage.models.citizens import Citizen
from storage.models.incidents import Incident
from storage.models.outbox import UNSETTLED, OutboxMessage
from storage.models.reports import Report, ReportMedia
from tests.e2e.conftest import E2E

CITY_HALL = (37.5663, 126.9779)  # Seoul City Hall, 중구


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """Return the point ``metres`` north of ``point``."""
    return point[0] + metres / 111_195.0, point[1]


async def reports_of(app: E2E, user_id: int) -> list[Report]:
    """Return a citizen's reports, oldest first."""
    async with app.runtime.session_factory() as session:
        citizen = (
            await session.exec(select(Citizen).where(col(Citizen.telegram_user_id) == user_id))
        ).one_or_none()
        if citizen is None:
            return []
        rows = await session.exec(
            select(Report).where(col(Report.citizen_id) == citizen.id).order_by(col(Report.id))
        )
        return list(rows.all())


async def media_of(app: E2E, report_id: int | None) -> list[ReportMedia]:
    """Return a report's media rows."""
    async with app.runtime.session_factory() as session:
        rows = await session.exec(
            select(ReportMedia)
            .where(col(ReportMedia.report_id) == report_id)
            .order_by(col(ReportMedia.message_id))
        )
        return list(rows.all())


async def all_incidents(app: E2E) -> list[Incident]:
    """Return every incident."""
    async with app.runtime.session_factory() as session:
        return list((await session.exec(select(Incident).order_by(col(Incident.id)))).all())


async def bot_texts(app: E2E, chat_id: int) -> list[str]:
    """Return the texts the bot sent to a chat, oldest first."""
    messages = await app.client.messages(chat_id)
    return [bot_text(m) for m in messages if m.get("from", {}).get("is_bot")]


def bot_text(message: dict[str, Any]) -> str:
    """Return a message's text or caption."""
    return str(message.get("text") or message.get("caption") or "")


async def bot_messages(app: E2E, chat_id: int) -> list[dict[str, Any]]:
    """Return the messages the bot sent to a chat, oldest first."""
    return [m for m in await app.client.messages(chat_id) if m.get("from", {}).get("is_bot")]


async def settle(app: E2E, *chat_ids: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until every update was handled and everything queued for these chats was sent.

    Staff-room traffic (group rate limits) is not waited for: these tests watch citizens.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while loop.time() < deadline:
        async with app.runtime.session_factory() as session:
            unsettled = (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        col(OutboxMessage.chat_id).in_(chat_ids),
                        col(OutboxMessage.status).in_(UNSETTLED),
                    )
                )
            ).one()
        undelivered = await app.client.pending_updates(app.token)
        busy = unsettled or undelivered or app.runtime.busy()
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"chats {chat_ids} did not settle in {timeout}s")
