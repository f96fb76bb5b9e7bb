"""Callback data of the community buttons: ``"com:<action>:<field>..."`` (at most 64 bytes).

Usage::

    OpenCommunity(incident_id=7).pack()          # "com:open:7"
    CommunityAction.unpack("com:fld:3:fire")     # CommunityAction(action="fld", ...)

The incident card's "Open expert community" button carries :class:`OpenCommunity` data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

PREFIX = "com"
MAX_BYTES = 64


class CallbackError(ValueError):
    """Raised when community callback data does not parse."""


def _pack(*parts: object) -> str:
    texts = [str(part) for part in parts]
    if any(":" in text for text in texts):
        raise CallbackError(f"separator in callback field {texts!r}")
    data = ":".join([PREFIX, *texts])
    if len(data.encode()) > MAX_BYTES:
        raise CallbackError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def _parts(data: str, action: str, count: int) -> list[str]:
    parts = data.split(":")
    if parts[:2] != [PREFIX, action] or len(parts) != count + 2:
        raise CallbackError(f"not a {PREFIX}:{action} callback: {data!r}")
    return parts[2:]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as error:
        raise CallbackError(f"not a number: {text!r}") from error


@dataclass(frozen=True)
class OpenCommunity:
    """Open (or reopen) the expert community of incident ``incident_id``."""

    ACTION: ClassVar[str] = "open"
    incident_id: int

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.incident_id)

    @classmethod
    def unpack(cls, data: str) -> OpenCommunity:
        """Parse data made by :meth:`pack`."""
        (incident_id,) = _parts(data, cls.ACTION, 1)
        return cls(incident_id=_int(incident_id))


@dataclass(frozen=True)
class ToggleField:
    """Add or remove expert field ``field`` of community ``community_id`` before inviting."""

    ACTION: ClassVar[str] = "fld"
    community_id: int
    field: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.community_id, self.field)

    @classmethod
    def unpack(cls, data: str) -> ToggleField:
        """Parse data made by :meth:`pack`."""
        community_id, field = _parts(data, cls.ACTION, 2)
        return cls(community_id=_int(community_id), field=field)


@dataclass(frozen=True)
class SendInvitations:
    """Send the invitations of community ``community_id``."""

    ACTION: ClassVar[str] = "send"
    community_id: int

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.community_id)

    @classmethod
    def unpack(cls, data: str) -> SendInvitations:
        """Parse data made by :meth:`pack`."""
        (community_id,) = _parts(data, cls.ACTION, 1)
        return cls(community_id=_int(community_id))


@dataclass(frozen=True)
class CloseCommunity:
    """Close community ``community_id``."""

    ACTION: ClassVar[str] = "close"
    community_id: int

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.community_id)

    @classmethod
    def unpack(cls, data: str) -> CloseCommunity:
        """Parse data made by :meth:`pack`."""
        (community_id,) = _parts(data, cls.ACTION, 1)
        return cls(community_id=_int(community_id))


@dataclass(frozen=True)
class VerifyExpert:
    """A lead verifies (``yes``) or rejects (``no``) registered expert ``expert_id``."""

    ACTION: ClassVar[str] = "ver"
    expert_id: int
    answer: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.expert_id, self.answer)

    @classmethod
    def unpack(cls, data: str) -> VerifyExpert:
        """Parse data made by :meth:`pack`."""
        expert_id, answer = _parts(data, cls.ACTION, 2)
        if answer not in ("yes", "no"):
            raise CallbackError(f"unknown answer {answer!r}")
        return cls(expert_id=_int(expert_id), answer=answer)


@dataclass(frozen=True)
class RegistrationChoice:
    """A registering expert picks a role or field (``value``), or finishes (``done``)."""

    ACTION: ClassVar[str] = "reg"
    value: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.ACTION, self.value)

    @classmethod
    def unpack(cls, data: str) -> RegistrationChoice:
        """Parse data made by :meth:`pack`."""
        (value,) = _parts(data, cls.ACTION, 1)
        return cls(value=value)


def action_of(data: str) -> str | None:
    """Return the action of community callback data (``open``, ``fld``...), or None."""
    parts = data.split(":")
    return parts[1] if len(parts) >= 2 and parts[0] == PREFIX else None
