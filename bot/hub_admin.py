"""The experts' hub administered through the Bot API (``community.ports.HubAdmin``).

Usage::

    hub = BotHubAdmin(bot)
    link = await hub.create_invite_link(chat_id=hub_id, name="c7-e3", expire_date=until)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import ChatMemberAdministrator, ChatMemberRestricted, ChatPermissions
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.middlewares.database import write_gate
from bot.settings import Settings
from community.config import config_of
from community.hub_work import tidy_closed
from community.invitations import finish_invitations
from community.joins import finish_join_requests
from community.lifecycle import Sweep, finish_openings, sweep_quiet
from community.ports import HubError
from situation.clock import Clock

log = logging.getLogger(__name__)

REQUIRED_RIGHTS = (
    "can_manage_topics",
    "can_invite_users",
    "can_restrict_members",
    "can_delete_messages",
    "can_pin_messages",
)
JOIN_REQUEST_GONE = "HIDE_REQUESTER_MISSING"  # no pending request of that user (any more)
SEND_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
)


class BotHubAdmin:
    """Administer the hub with aiogram's Bot; Telegram's refusals become ``HubError``."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def create_topic(self, *, chat_id: int, name: str) -> int:
        """Create a forum topic and return its thread id."""
        try:
            topic = await self._bot.create_forum_topic(chat_id=chat_id, name=name[:128])
        except TelegramAPIError as error:
            raise HubError(error.message) from error
        return topic.message_thread_id

    async def create_invite_link(
        self, *, chat_id: int, name: str, expire_date: datetime | None
    ) -> str:
        """Create an invite link that files a join request."""
        try:
            link = await self._bot.create_chat_invite_link(
                chat_id=chat_id,
                name=name[:32],
                expire_date=expire_date,
                creates_join_request=True,
            )
        except TelegramAPIError as error:
            raise HubError(error.message) from error
        return link.invite_link

    async def revoke_invite_link(self, *, chat_id: int, invite_link: str) -> None:
        """Revoke an invite link."""
        try:
            await self._bot.revoke_chat_invite_link(chat_id=chat_id, invite_link=invite_link)
        except TelegramAPIError as error:
            raise HubError(error.message) from error

    async def approve_join_request(self, *, chat_id: int, user_id: int) -> None:
        """Approve a pending join request."""
        try:
            await self._bot.approve_chat_join_request(chat_id=chat_id, user_id=user_id)
        except TelegramAPIError as error:
            raise _join_error(error) from error

    async def decline_join_request(self, *, chat_id: int, user_id: int) -> None:
        """Decline a pending join request."""
        try:
            await self._bot.decline_chat_join_request(chat_id=chat_id, user_id=user_id)
        except TelegramAPIError as error:
            raise _join_error(error) from error

    async def member_status(self, *, chat_id: int, user_id: int) -> str:
        """Return the user's status; a restricted user still in the chat counts as ``member``."""
        try:
            member = await self._bot.get_chat_member(chat_id=chat_id, user_id=user_id)
        except TelegramAPIError:
            return "left"
        if isinstance(member, ChatMemberRestricted):
            return "member" if member.is_member else "left"
        return str(member.status)

    async def restrict(self, *, chat_id: int, user_id: int, can_send: bool) -> None:
        """Mute (``can_send`` False) or unmute a member of the hub."""
        permissions = ChatPermissions(**{name: can_send for name in SEND_PERMISSIONS})
        try:
            await self._bot.restrict_chat_member(
                chat_id=chat_id,
                user_id=user_id,
                permissions=permissions,
                use_independent_chat_permissions=True,
            )
        except TelegramAPIError as error:
            raise HubError(error.message, retry=_may_pass(error)) from error

    async def remove(self, *, chat_id: int, user_id: int) -> None:
        """Remove a member: ban, then lift the ban so a new invitation can bring them back."""
        try:
            await self._bot.ban_chat_member(chat_id=chat_id, user_id=user_id)
            await self._bot.unban_chat_member(chat_id=chat_id, user_id=user_id, only_if_banned=True)
        except TelegramAPIError as error:
            raise HubError(error.message) from error

    async def delete_message(self, *, chat_id: int, message_id: int) -> None:
        """Delete a message of the hub."""
        try:
            await self._bot.delete_message(chat_id=chat_id, message_id=message_id)
        except TelegramAPIError as error:
            raise HubError(error.message) from error

    async def missing_rights(self, *, chat_id: int) -> list[str]:
        """Return the administrator rights the bot lacks in the hub."""
        try:
            me = await self._bot.get_chat_member(chat_id=chat_id, user_id=self._bot.id)
        except TelegramAPIError as error:
            return [f"chat unreachable: {error.message}"]
        if me.status == "creator":
            return []
        if not isinstance(me, ChatMemberAdministrator):
            return ["administrator", *REQUIRED_RIGHTS]
        missing = [name for name in REQUIRED_RIGHTS if not getattr(me, name, False)]
        try:
            chat = await self._bot.get_chat(chat_id=chat_id)
        except TelegramAPIError as error:
            return [*missing, f"chat unreachable: {error.message}"]
        if not chat.is_forum:
            missing.append("forum topics enabled")
        return missing


async def sweep_communities(
    *,
    bot: Bot,
    session_factory: async_sessionmaker[Any],
    settings: Settings,
    now: datetime,
) -> Sweep:
    """Run the community sweep once: close those of closed incidents, warn or close quiet ones.

    The database part runs in one transaction; then, outside it, the links of closed
    communities are revoked and their mutes lifted, topics and invitations left "being
    prepared" are made, and join requests left unanswered are answered (each result in a
    short transaction).
    """
    async with write_gate(session_factory), session_factory() as session, session.begin():
        result = await sweep_quiet(
            session=session,
            now=now,
            config=config_of(settings),
            lang=settings.default_language,
            tz=settings.timezone,
        )
    tidied = await tidy_closed(
        hub=BotHubAdmin(bot),
        session_factory=session_factory,
        lang=settings.default_language,
        turn=lambda: write_gate(session_factory),
    )
    result.revoked = tidied.revoked
    # Openings and invitations a worker decided but did not live to make at Telegram.
    await finish_openings(
        hub=BotHubAdmin(bot),
        session_factory=session_factory,
        now=now,
        lang=settings.default_language,
        tz=settings.timezone,
        turn=lambda: write_gate(session_factory),
    )
    await finish_invitations(
        hub=BotHubAdmin(bot),
        session_factory=session_factory,
        now=now,
        lang=settings.default_language,
        tz=settings.timezone,
        link_ttl=config_of(settings).invite_link_ttl,
        turn=lambda: write_gate(session_factory),
    )
    # Join requests a worker decided but did not live to answer: Telegram still holds them.
    await finish_join_requests(
        hub=BotHubAdmin(bot),
        session_factory=session_factory,
        now=now,
        turn=lambda: write_gate(session_factory),
    )
    return result


class CommunitySweeper:
    """Run :func:`sweep_communities` every ``sweep_minutes`` in the worker leading the scheduler.

    The sweep's state lives in the community rows (last activity, warning time), so a restart
    or a change of leader loses nothing: the next sweep catches up.
    """

    def __init__(
        self,
        *,
        bot: Bot,
        settings: Settings,
        clock: Clock,
        scheduler: Callable[[], Any],
        interval: float | None = None,
    ) -> None:
        self._bot = bot
        self._settings = settings
        self._clock = clock
        self._scheduler = scheduler
        self._interval = interval or config_of(settings).sweep_minutes * 60
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> Sweep | None:
        """Sweep once if this worker leads the scheduler (None otherwise)."""
        service = self._scheduler()
        if service is None or not getattr(service, "leading", False):
            return None
        result = await sweep_communities(
            bot=self._bot,
            session_factory=service.session_factory,
            settings=self._settings,
            now=self._clock.now(),
        )
        if result.warned or result.closed:
            log.info("community sweep: warned %s, closed %s", result.warned, result.closed)
        return result

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.tick()
            except Exception:
                log.exception("community sweep failed")

    async def start(self) -> None:
        """Start sweeping in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="community-sweep")

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _join_error(error: TelegramAPIError) -> HubError:
    """A refused answer to a join request; ``gone`` when Telegram no longer knows the request.

    Not marked ``retry``: a refused approval is told at once (staff invite again), not retried.
    """
    return HubError(error.message, gone=JOIN_REQUEST_GONE in error.message)


def _may_pass(error: TelegramAPIError) -> bool:
    """Whether Telegram may accept the same call later (flood control, its servers, the net)."""
    return isinstance(error, TelegramRetryAfter | TelegramServerError | TelegramNetworkError)
