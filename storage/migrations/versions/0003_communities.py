"""Expert registry and emergency communities: experts, communities, members, transcript.

Revision ID: 0003_communities
Revises: 0002_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_communities"
down_revision = "0002_reports"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _flag(name: str, default: bool = False) -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column(
        name, sa.Boolean(), nullable=False, server_default=sa.true() if default else sa.false()
    )


def upgrade() -> None:
    """Create the expert and community tables."""
    op.create_table(
        "expert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("organisation", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency", sa.String(64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        _flag("verified"),
        sa.Column("verified_by", sa.BigInteger(), nullable=True),
        _ts("verified_at"),
        _flag("available", True),
        _flag("active", True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("hub_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_by", sa.BigInteger(), nullable=True),
        _ts("opened_at", nullable=False),
        _ts("invitations_sent_at"),
        _flag("readonly"),
        _ts("last_activity_at", nullable=False),
        _ts("quiet_warned_at"),
        _ts("closed_at"),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(32), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_community_incident_id", "community", ["incident_id"])
    op.create_table(
        "community_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("community.id"), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("expert_id", sa.Integer(), sa.ForeignKey("expert.id"), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invite_link", sa.String(128), nullable=True),
        _flag("link_revoked"),
        _flag("muted"),
        _ts("invited_at", nullable=False),
        _ts("joined_at"),
        _ts("left_at"),
        sa.UniqueConstraint("community_id", "telegram_user_id"),
    )
    op.create_index("ix_community_member_community_id", "community_member", ["community_id"])
    op.create_index(
        "ix_community_member_telegram_user_id", "community_member", ["telegram_user_id"]
    )
    op.create_index("ix_community_member_invite_link", "community_member", ["invite_link"])
    op.create_table(
        "community_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("community.id"), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_name", sa.String(128), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        _flag("pinned"),
        _flag("decision"),
        _flag("deleted"),
        _ts("at", nullable=False),
    )
    op.create_index("ix_community_message_community_id", "community_message", ["community_id"])
    op.create_index("ix_community_message_incident_id", "community_message", ["incident_id"])


def downgrade() -> None:
    """Drop the expert and community tables."""
    op.drop_index("ix_community_message_incident_id", "community_message")
    op.drop_index("ix_community_message_community_id", "community_message")
    op.drop_table("community_message")
    op.drop_index("ix_community_member_invite_link", "community_member")
    op.drop_index("ix_community_member_telegram_user_id", "community_member")
    op.drop_index("ix_community_member_community_id", "community_member")
    op.drop_table("community_member")
    op.drop_index("ix_community_incident_id", "community")
    op.drop_table("community")
    op.drop_table("expert")
