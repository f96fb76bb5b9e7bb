"""Emergency communities: a forum topic in the experts' hub per incident, its members, its
transcript."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class CommunityState:
    """The states of a community."""

    OPEN = "open"
    CLOSED = "closed"


class MemberStatus:
    """Where a person stands with one community."""

    PREPARING = "preparing"  # invitation decided and committed; link or hub check not made yet
    INVITED = "invited"
    JOINED = "joined"
    DECLINED = "declined"
    REMOVED = "removed"
    LEFT = "left"


class MemberRole:
    """The role a participant speaks with in the transcript."""

    EXPERT = "expert"
    AGENCY = "agency"
    STAFF = "staff"
    BOT = "bot"
    OTHER = "other"


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg,unused-ignore]
    return Column(TZDateTime(), nullable=nullable)


class Community(SQLModel, table=True):
    """One incident's emergency community: a topic of the experts' hub."""

    __tablename__ = "community"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=False, index=True)
    )
    hub_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    topic_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    title: str = Field(default="", sa_column=Column(String(128), nullable=False))
    state: str = Field(default=CommunityState.OPEN, sa_column=Column(String(16), nullable=False))
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    excluded: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    staff_thread_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    opened_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    invitations_sent_at: datetime | None = Field(default=None, sa_column=_ts())
    readonly: bool = Field(default=False)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    quiet_warned_at: datetime | None = Field(default=None, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts())
    closed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    close_reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    reopen_count: int = Field(default=0)


class CommunityMember(SQLModel, table=True):
    """A person invited to (or present in) a community, with their invite link."""

    __tablename__ = "community_member"
    __table_args__ = (UniqueConstraint("community_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(Integer, ForeignKey("community.id"), nullable=False, index=True)
    )
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    expert_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("expert.id"), nullable=True)
    )
    name: str = Field(default="", sa_column=Column(String(128), nullable=False))
    role: str = Field(default=MemberRole.EXPERT, sa_column=Column(String(16), nullable=False))
    status: str = Field(default=MemberStatus.INVITED, sa_column=Column(String(16), nullable=False))
    invite_link: str | None = Field(
        default=None, sa_column=Column(String(128), nullable=True, index=True)
    )
    link_revoked: bool = Field(default=False)
    muted: bool = Field(default=False)
    # While ``preparing``: the status to return to if Telegram refuses (None: a new row, deleted).
    prepared_from: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    invited_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    joined_at: datetime | None = Field(default=None, sa_column=_ts())
    left_at: datetime | None = Field(default=None, sa_column=_ts())


class JoinAnswer:
    """Where the bot's answer to a join request to the hub stands."""

    PENDING = "pending"  # decided and committed; Telegram not answered yet
    APPROVED = "approved"
    DECLINED = "declined"
    REFUSED = "refused"  # Telegram refused the approval (told to the expert and staff)
    GONE = "gone"  # Telegram no longer knows the request (withdrawn, answered elsewhere)


class HubJoinRequest(SQLModel, table=True):
    """A join request to the hub, the decision about it, and whether Telegram has it yet.

    The update stores the decision and commits; the approval or decline is called outside the
    transaction and its outcome recorded; a request left pending is finished by the sweep.
    """

    __tablename__ = "hub_join_request"

    id: int | None = Field(default=None, primary_key=True)
    hub_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    invite_link: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    community_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("community.id"), nullable=True)
    )
    approve: bool = Field(default=False)
    reason: str = Field(default="", sa_column=Column(String(32), nullable=False))
    language: str = Field(default="ko", sa_column=Column(String(8), nullable=False))
    staff_language: str = Field(default="ko", sa_column=Column(String(8), nullable=False))
    state: str = Field(
        default=JoinAnswer.PENDING, sa_column=Column(String(16), nullable=False, index=True)
    )
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts())
    answered_at: datetime | None = Field(default=None, sa_column=_ts())


class CommunityMessage(SQLModel, table=True):
    """One message of a community's transcript, linked to the incident."""

    __tablename__ = "community_message"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(Integer, ForeignKey("community.id"), nullable=False, index=True)
    )
    incident_id: int = Field(
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=False, index=True)
    )
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    author_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    author_name: str = Field(default="", sa_column=Column(String(128), nullable=False))
    author_role: str = Field(default=MemberRole.OTHER, sa_column=Column(String(16), nullable=False))
    kind: str = Field(default="text", sa_column=Column(String(16), nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pinned: bool = Field(default=False)
    decision: bool = Field(default=False)
    deleted: bool = Field(default=False)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
