"""Citizen reports, their media and every message the citizen sent about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class ReportStatus:
    """The states of a report."""

    DRAFT = "draft"
    FILED = "filed"
    CANCELLED = "cancelled"


class MediaStatus:
    """The states of a report's media file."""

    STORED = "stored"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    PURGED = "purged"


class ReportMessageKind:
    """Report messages that are not a citizen message's own kind (text, photo, location ...)."""

    # The citizen edited message ``message_id``: ``text`` holds its new words (None: removed).
    EDIT = "edit"
    # The live location sent as ``message_id`` moved (or stopped): staff are shown where the
    # report is now. Written at most once per few minutes (see situation.intake.LIVE_NOTE_EVERY).
    MOVED = "moved"
    # Not a message but something the citizen did that the staff room must see (a notice in the
    # topic, then the card redrawn): no chat or message id, never copied.
    # The citizen picked a scenario with the buttons: ``text`` holds its slug (None: "other").
    SCENARIO = "scenario"
    # The citizen's words made their report's incident urgent (raised it to P1).
    URGENT = "urgent"
    # The citizen cancelled the report (/cancel) after it joined an incident.
    CANCELLED = "cancelled"
    NOTICES = frozenset({SCENARIO, URGENT, CANCELLED})


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg,unused-ignore]
    return Column(TZDateTime(), nullable=nullable)


class Report(SQLModel, table=True):
    """One citizen report: what, where, when, with its scenario and the incident it joined."""

    __tablename__ = "report"
    # The retention purge looks for the reports not purged yet: the recent ones.
    __table_args__ = (
        Index(
            "ix_report_unpurged",
            "created_at",
            sqlite_where=text("location_purged_at IS NULL"),
            postgresql_where=text("location_purged_at IS NULL"),
        ),
        # The sweep looks for live locations at a place staff were not shown: a few at most.
        Index(
            "ix_report_live_unshown",
            "live_unshown_since",
            sqlite_where=text("live_unshown_since IS NOT NULL"),
            postgresql_where=text("live_unshown_since IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(
        default=None, sa_column=Column(String(32), nullable=True, unique=True, index=True)
    )
    citizen_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("citizen.id"), nullable=True, index=True),
    )
    incident_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("incident.id"), nullable=True, index=True),
    )
    status: str = Field(default=ReportStatus.DRAFT, sa_column=Column(String(16), nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    scenario: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    scenario_confidence: float | None = Field(default=None, sa_column=Column(Float))
    scenario_confirmed: bool = Field(default=False)
    urgent: bool = Field(default=False)
    language: str = Field(default="ko", sa_column=Column(String(8), nullable=False))
    latitude: float | None = Field(default=None, sa_column=Column(Float))
    longitude: float | None = Field(default=None, sa_column=Column(Float))
    accuracy: float | None = Field(default=None, sa_column=Column(Float))
    location_label: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    live_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    live_until: datetime | None = Field(default=None, sa_column=_ts())
    # Since when the live location is at a place the staff topic was not shown (None: staff
    # saw the newest place), the district the topic was last told of, and when a note last
    # told it of another district (crossings are noted at most once a minute).
    live_unshown_since: datetime | None = Field(default=None, sa_column=_ts())
    live_shown_district: str | None = Field(default=None, sa_column=Column(String(16)))
    live_crossed_at: datetime | None = Field(default=None, sa_column=_ts())
    district_code: str | None = Field(default=None, sa_column=Column(String(16)))
    district_name: str | None = Field(default=None, sa_column=Column(String(64)))
    outside_service_area: bool = Field(default=False)
    asked_where_at: datetime | None = Field(default=None, sa_column=_ts())
    asked_what_at: datetime | None = Field(default=None, sa_column=_ts())
    where_skipped: bool = Field(default=False)
    what_skipped: bool = Field(default=False)
    message_count: int = Field(default=0)
    unacknowledged_count: int = Field(default=0)
    last_ack_at: datetime | None = Field(default=None, sa_column=_ts())
    last_message_at: datetime | None = Field(default=None, sa_column=_ts())
    sealed_at: datetime | None = Field(default=None, sa_column=_ts())
    location_purged_at: datetime | None = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    filed_at: datetime | None = Field(default=None, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ReportMedia(SQLModel, table=True):
    """A photo, document or voice message attached to a report, kept in the media store."""

    __tablename__ = "report_media"
    # Whether a stored file is still used is asked by hash and path (intake and the purge).
    __table_args__ = (Index("ix_report_media_file", "sha256", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("report.id"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    file_id: str | None = Field(default=None, sa_column=Column(String(256)))
    file_unique_id: str | None = Field(default=None, sa_column=Column(String(128)))
    media_group_id: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    path: str | None = Field(default=None, sa_column=Column(String(512)))
    size: int | None = Field(default=None, sa_column=Column(BigInteger))
    mime: str | None = Field(default=None, sa_column=Column(String(128)))
    status: str = Field(default=MediaStatus.STORED, sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ReportMessage(SQLModel, table=True):
    """Every message a citizen sent about a report, so staff can see or copy it."""

    __tablename__ = "report_message"
    # The staff-room projector looks for messages not yet shown to staff on every pass.
    __table_args__ = (
        Index(
            "ix_report_message_unrelayed",
            "report_id",
            sqlite_where=text("relayed = 0"),
            postgresql_where=text("relayed = false"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("report.id"), nullable=False, index=True)
    )
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media_group_id: str | None = Field(default=None, sa_column=Column(String(64)))
    # Who the citizen forwarded this message from (a person, a group or a channel), if anyone:
    # a forwarded rumour is not an eyewitness report.
    forwarded_from: str | None = Field(default=None, sa_column=Column(String(256)))
    relayed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
