"""Start-up check of the bot's rights in the staff supergroup, told to the admins precisely.

The situation room needs a forum supergroup in which the bot is an administrator that can
manage topics, pin messages and delete messages. What is missing is logged, posted in the
supergroup's General topic (if the bot can post there) and sent to every registered admin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner
from sqlalchemy.ext.asyncio import async_sessionmaker

from situation.staffroom import RoomConfig
from situation.texts import render
from storage.models.outbox import OutboxCreate, Priority
from storage.models.staff import StaffRole
from storage.outbox import enqueue
from storage.staff import list_staff

log = logging.getLogger(__name__)

REQUIRED_RIGHTS = ("can_manage_topics", "can_pin_messages", "can_delete_messages")


@dataclass
class RightsReport:
    """What the bot may do in the staff supergroup and what is missing."""

    chat_id: int | None
    reachable: bool = True
    is_forum: bool = False
    is_admin: bool = False
    missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether everything the situation room needs is in place."""
        return self.reachable and self.is_forum and self.is_admin and not self.missing


async def check_rights(bot: Bot, chat_id: int | None) -> RightsReport:
    """Ask the Bot API what the bot may do in the staff supergroup."""
    report = RightsReport(chat_id=chat_id)
    if chat_id is None:
        report.reachable = False
        report.error = "staff_chat_id is not configured"
        return report
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramAPIError as error:
        report.reachable = False
        report.error = str(error)
        return report
    report.is_forum = bool(chat.is_forum)
    if isinstance(member, ChatMemberOwner):
        report.is_admin = True
        return report
    if isinstance(member, ChatMemberAdministrator):
        report.is_admin = True
        report.missing = [right for right in REQUIRED_RIGHTS if not getattr(member, right, False)]
    else:
        report.missing = list(REQUIRED_RIGHTS)
    return report


def describe(report: RightsReport, lang: str) -> str:
    """Render the problem for the admins."""
    return render(
        lang,
        "staff_rights_missing",
        chat_id=report.chat_id,
        reachable=report.reachable,
        is_forum=report.is_forum,
        is_admin=report.is_admin,
        missing=report.missing,
        error=report.error,
    )


async def announce_rights(
    *,
    bot: Bot,
    room: RoomConfig,
    session_factory: async_sessionmaker[Any],
    now: datetime,
) -> RightsReport:
    """Check the rights at start-up and tell the admins exactly what is missing."""
    report = await check_rights(bot, room.chat_id)
    if report.ok:
        log.info("staff supergroup %s: rights are in place", room.chat_id)
        return report
    text = describe(report, room.lang)
    log.error(
        "staff supergroup %s is not ready: forum=%s admin=%s missing=%s error=%s",
        room.chat_id,
        report.is_forum,
        report.is_admin,
        ",".join(report.missing) or "-",
        report.error,
    )
    async with session_factory() as session, session.begin():
        if report.reachable and room.chat_id is not None:
            await enqueue(
                session=session,
                message=OutboxCreate(
                    chat_id=room.chat_id,
                    kind="text",
                    payload={"text": text},
                    priority=Priority.STAFF_NOTICE,
                ),
            )
        for admin in await list_staff(session=session, role=StaffRole.ADMIN):
            await enqueue(
                session=session,
                message=OutboxCreate(
                    chat_id=admin.telegram_user_id,
                    kind="text",
                    payload={"text": text},
                    priority=Priority.STAFF_NOTICE,
                    correlation=f"rights:{admin.telegram_user_id}:{int(now.timestamp())}",
                ),
            )
    return report
