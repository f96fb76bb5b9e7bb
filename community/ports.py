"""What the community domain needs from the messenger right away (answers it cannot wait for).

Messages go through the outbox; membership actions whose answer the domain needs at once
(an invite link, a new topic, approving a join request) go through :class:`HubAdmin`, which
``bot.hub_admin.BotHubAdmin`` implements with the Bot API::

    link = await hub.create_invite_link(chat_id=hub_id, name="c7-u42", expire_date=until)
    await hub.approve_join_request(chat_id=hub_id, user_id=42)
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

PRESENT_STATUSES = frozenset({"creator", "administrator", "member"})


class HubError(Exception):
    """The messenger refused a membership action (the description says why).

    ``retry``: the refusal may pass (flood control, a server error, the network); otherwise
    the same call will be refused again (no rights, no such member, a bad request).
    ``gone``: the join request answered is no longer pending (withdrawn, or answered already).
    """

    def __init__(self, message: str, *, retry: bool = False, gone: bool = False) -> None:
        super().__init__(message)
        self.retry = retry
        self.gone = gone


class HubAdmin(Protocol):
    """Administration of the experts' hub supergroup."""

    async def create_topic(self, *, chat_id: int, name: str) -> int:
        """Create a forum topic and return its thread id."""
        ...

    async def create_invite_link(
        self, *, chat_id: int, name: str, expire_date: datetime | None
    ) -> str:
        """Create an invite link that files a join request, and return it."""
        ...

    async def revoke_invite_link(self, *, chat_id: int, invite_link: str) -> None:
        """Revoke an invite link."""
        ...

    async def approve_join_request(self, *, chat_id: int, user_id: int) -> None:
        """Approve a pending join request."""
        ...

    async def decline_join_request(self, *, chat_id: int, user_id: int) -> None:
        """Decline a pending join request."""
        ...

    async def member_status(self, *, chat_id: int, user_id: int) -> str:
        """Return the user's status in the chat (creator/administrator/member/restricted/...)."""
        ...

    async def restrict(self, *, chat_id: int, user_id: int, can_send: bool) -> None:
        """Mute (``can_send`` False) or unmute a member."""
        ...

    async def remove(self, *, chat_id: int, user_id: int) -> None:
        """Remove a member from the chat (they may come back only with a new invitation)."""
        ...

    async def delete_message(self, *, chat_id: int, message_id: int) -> None:
        """Delete a message."""
        ...

    async def missing_rights(self, *, chat_id: int) -> list[str]:
        """Return the administrator rights the bot lacks in the chat (empty when all is well)."""
        ...
