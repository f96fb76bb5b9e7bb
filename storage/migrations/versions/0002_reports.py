"""Citizens, reports, report media and messages, incidents.

Revision ID: 0002_reports
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_reports"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the citizen-reporting tables."""
    op.create_table(
        "citizen",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        _ts("consent_at"),
        _ts("forgotten_at"),
        sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("created_at", nullable=False),
        _ts("last_seen_at"),
    )
    op.create_index("ix_citizen_telegram_user_id", "citizen", ["telegram_user_id"], unique=True)
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(32), nullable=True),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("district_code", sa.String(16), nullable=True),
        sa.Column("district_name", sa.String(64), nullable=True),
        sa.Column("outside_service_area", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("located_reports", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("report_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("opened_at", nullable=False),
        _ts("last_report_at"),
        _ts("acknowledged_at"),
        _ts("closed_at"),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=True),
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        _ts("updated_at", nullable=False),
    )
    op.create_index("ix_incident_reference", "incident", ["reference"], unique=True)
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(32), nullable=True),
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("scenario_confidence", sa.Float(), nullable=True),
        sa.Column("scenario_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("location_label", sa.Text(), nullable=True),
        sa.Column("live_message_id", sa.BigInteger(), nullable=True),
        _ts("live_until"),
        sa.Column("district_code", sa.String(16), nullable=True),
        sa.Column("district_name", sa.String(64), nullable=True),
        sa.Column("outside_service_area", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("asked_where_at"),
        _ts("asked_what_at"),
        sa.Column("where_skipped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("what_skipped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unacknowledged_count", sa.Integer(), nullable=False, server_default="0"),
        _ts("last_ack_at"),
        _ts("last_message_at"),
        _ts("sealed_at"),
        _ts("location_purged_at"),
        _ts("created_at", nullable=False),
        _ts("filed_at"),
        _ts("updated_at", nullable=False),
    )
    op.create_index("ix_report_reference", "report", ["reference"], unique=True)
    op.create_index("ix_report_citizen_id", "report", ["citizen_id"])
    op.create_index("ix_report_incident_id", "report", ["incident_id"])
    op.create_table(
        "report_media",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("file_id", sa.String(256), nullable=True),
        sa.Column("file_unique_id", sa.String(128), nullable=True),
        sa.Column("media_group_id", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("path", sa.String(512), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mime", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_report_media_report_id", "report_media", ["report_id"])
    op.create_index("ix_report_media_media_group_id", "report_media", ["media_group_id"])
    op.create_table(
        "report_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_group_id", sa.String(64), nullable=True),
        sa.Column("relayed", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_report_message_report_id", "report_message", ["report_id"])


def downgrade() -> None:
    """Drop the citizen-reporting tables."""
    op.drop_table("report_message")
    op.drop_table("report_media")
    op.drop_table("report")
    op.drop_table("incident")
    op.drop_table("citizen")
