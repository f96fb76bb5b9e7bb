"""The sandbox world: users, bots, chats, members, topics, messages, invite links."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.faults import FaultInjector
from sandbox.files import FileStore
from sandbox.jsonutil import copy_json, drop_none
from sandbox.ratelimit import RateLimiter
from sandbox.updates import UpdateQueue

if TYPE_CHECKING:
    from sandbox.config import SandboxConfig

ADMIN_RIGHTS = [
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
    "can_send_welcome_messages",
]
MEMBER_PERMISSIONS = [
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
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
]
PRESENT_STATUSES = {"creator", "administrator", "member", "restricted"}
TOPIC_COLORS = [7322096, 16766590, 13338331, 9367192, 16749490, 16478047]
GENERAL_TOPIC_ID = 1


@dataclass
class User:
    """A Telegram account (a person or a bot)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    bio: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the Bot API ``User`` object."""
        return drop_none(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": None if self.is_bot else self.language_code,
            }
        )

    @property
    def full_name(self) -> str:
        """Return first and last name joined."""
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass
class WebhookConfig:
    """A bot's webhook settings and delivery status."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Bot:
    """A bot account: its user, token, updates, webhook, commands, and who started/blocked it."""

    user: User
    token: str
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = True
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    webhook: WebhookConfig | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    poll_generation: int = 0
    dm_allowed_until: dict[int, int] = field(default_factory=dict)

    def me_json(self) -> dict[str, Any]:
        """Return the ``getMe`` result."""
        return {
            **self.user.to_json(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class Member:
    """A user's membership in a group: status, admin rights or restrictions."""

    user_id: int
    status: str = "member"
    rights: dict[str, bool] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    until_date: int = 0
    custom_title: str | None = None
    is_member: bool = True

    @property
    def present(self) -> bool:
        """Tell whether the user is currently in the chat."""
        if self.status == "restricted":
            return self.is_member
        return self.status in PRESENT_STATUSES

    def right(self, name: str) -> bool:
        """Tell whether the member holds an admin right (creators hold all)."""
        if self.status == "creator":
            return True
        return self.status == "administrator" and bool(self.rights.get(name))


@dataclass
class Topic:
    """A forum topic of a supergroup."""

    message_thread_id: int
    name: str
    icon_color: int
    creator_id: int
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False
    is_hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the Bot API ``ForumTopic`` object."""
        return drop_none(
            {
                "message_thread_id": self.message_thread_id,
                "name": self.name,
                "icon_color": self.icon_color,
                "icon_custom_emoji_id": self.icon_custom_emoji_id,
            }
        )


@dataclass
class StoredMessage:
    """A message as the chat holds it: the Bot API JSON plus sandbox bookkeeping."""

    chat_id: int
    message_id: int
    data: dict[str, Any]
    sender_id: int
    thread_id: int | None = None
    deleted: bool = False
    pinned: bool = False
    sent_markup: dict[str, Any] | None = None

    @property
    def date(self) -> int:
        """Return the unix time the message was sent."""
        return int(self.data["date"])

    def snapshot(self) -> dict[str, Any]:
        """Return a deep copy of the message JSON."""
        return copy_json(self.data)


@dataclass
class InviteLink:
    """A chat invite link."""

    invite_link: str
    chat_id: int
    creator_id: int
    creates_join_request: bool = False
    is_primary: bool = False
    is_revoked: bool = False
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    joined: int = 0

    def to_json(self, world: World) -> dict[str, Any]:
        """Return the Bot API ``ChatInviteLink`` object."""
        chat = world.chats.get(self.chat_id)
        pending = 0
        if chat is not None:
            pending = sum(
                1 for r in chat.join_requests.values() if r.invite_link == self.invite_link
            )
        return drop_none(
            {
                "invite_link": self.invite_link,
                "creator": world.users[self.creator_id].to_json(),
                "creates_join_request": self.creates_join_request,
                "is_primary": self.is_primary,
                "is_revoked": self.is_revoked,
                "name": self.name,
                "expire_date": self.expire_date,
                "member_limit": self.member_limit,
                "pending_join_request_count": pending if self.creates_join_request else None,
            }
        )


@dataclass
class JoinRequest:
    """A pending request to join a chat."""

    user_id: int
    chat_id: int
    date: int
    invite_link: str | None = None
    bio: str | None = None


@dataclass
class Chat:
    """A private chat (one user and one bot), a group or a supergroup."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    description: str | None = None
    user_id: int | None = None  # private chats: the human
    bot_id: int | None = None  # private chats: the bot
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    invite_links: dict[str, InviteLink] = field(default_factory=dict)
    join_requests: dict[int, JoinRequest] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def is_private(self) -> bool:
        """Tell whether this is a one-to-one chat between a user and a bot."""
        return self.type == "private"

    def allocate_message_id(self) -> int:
        """Reserve the next message id of this chat."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def live_messages(self, thread_id: int | None = None) -> list[StoredMessage]:
        """Return non-deleted messages, optionally of one forum topic, oldest first."""
        result = [m for m in self.messages.values() if not m.deleted]
        if thread_id is not None:
            if thread_id == GENERAL_TOPIC_ID:
                result = [m for m in result if m.thread_id in (None, GENERAL_TOPIC_ID)]
            else:
                result = [m for m in result if m.thread_id == thread_id]
        return sorted(result, key=lambda m: m.message_id)


class World:
    """Everything the sandbox knows, plus change notification for waiters."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.users: dict[int, User] = {}
        self.bots: dict[str, Bot] = {}
        self.bots_by_id: dict[int, Bot] = {}
        self.chats: dict[int, Chat] = {}
        self.private_chats: dict[tuple[int, int], Chat] = {}
        self.files = FileStore()
        self.faults = FaultInjector()
        self.ratelimiter = RateLimiter(config)
        self.clock_offset = 0.0
        self.version = 0
        self._changed = asyncio.Condition()
        self._user_ids = itertools.count(config.first_user_id)
        self._group_ids = itertools.count(1)
        self._supergroup_ids = itertools.count(1)
        self.callback_answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.inline_answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.chat_actions: list[dict[str, Any]] = []
        self.timed_members: set[tuple[int, int]] = set()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.events: list[dict[str, Any]] = []

    def now(self) -> int:
        """Return the sandbox's unix time (real time plus any advance_time offset)."""
        return int(time.time() + self.clock_offset)

    def normalize_until(self, until_date: int) -> int:
        """Apply Telegram's rule: under 30 s or over 366 days from now means forever (0)."""
        if not until_date:
            return 0
        ahead = until_date - self.now()
        return 0 if ahead < 30 or ahead > 366 * 86400 else until_date

    def expire_members(self) -> None:
        """Lift restrictions and bans whose until_date has passed."""
        now = self.now()
        for chat_id, user_id in list(self.timed_members):
            chat = self.chats.get(chat_id)
            member = chat.members.get(user_id) if chat else None
            if chat is None or member is None or member.status not in ("restricted", "kicked"):
                self.timed_members.discard((chat_id, user_id))
                continue
            if not member.until_date or member.until_date > now:
                continue
            present = member.status == "restricted" and member.is_member
            chat.members[user_id] = Member(user_id=user_id, status="member" if present else "left")
            self.timed_members.discard((chat_id, user_id))

    def next_user_id(self) -> int:
        """Allocate a user id."""
        return next(self._user_ids)

    def next_group_id(self) -> int:
        """Allocate a basic group id (negative)."""
        return -(4000000000 + next(self._group_ids))

    def next_supergroup_id(self) -> int:
        """Allocate a supergroup id (-100...)."""
        return -(1000000000000 + 2000000000 + next(self._supergroup_ids))

    async def notify(self, event: dict[str, Any] | None = None) -> None:
        """Record a change and wake everyone waiting for one."""
        async with self._changed:
            self.version += 1
            if event is not None:
                record = {"version": self.version, **event}
                self.events.append(record)
                del self.events[:-500]
                for listener in list(self.listeners):
                    listener(record)
            self._changed.notify_all()

    async def wait_change(self, version: int, timeout: float) -> int:  # noqa: ASYNC109
        """Wait until the world version exceeds ``version`` or ``timeout`` passes."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > version), timeout
                )
            return self.version

    def private_chat(self, bot: Bot, user_id: int) -> Chat:
        """Return (creating it if needed) the private chat between ``bot`` and a user."""
        key = (bot.user.id, user_id)
        chat = self.private_chats.get(key)
        if chat is None:
            chat = Chat(id=user_id, type="private", user_id=user_id, bot_id=bot.user.id)
            self.private_chats[key] = chat
        return chat

    def default_bot(self) -> Bot:
        """Return the first bot created (control calls may omit bot_token)."""
        if not self.bots:
            raise LookupError("no bot created yet")
        return next(iter(self.bots.values()))

    def chat_json(self, chat: Chat) -> dict[str, Any]:
        """Return the short ``Chat`` object embedded in messages and updates."""
        if chat.is_private:
            assert chat.user_id is not None
            user = self.users[chat.user_id]
            return drop_none(
                {
                    "id": user.id,
                    "type": "private",
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "username": user.username,
                }
            )
        return drop_none(
            {
                "id": chat.id,
                "type": chat.type,
                "title": chat.title,
                "username": chat.username,
                "is_forum": True if chat.is_forum else None,
            }
        )
