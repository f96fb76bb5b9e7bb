"""Situation room: staff, incident topics, audit events, deadlines, hand-overs, follow-ups,
duty roster state and the scheduler lease.

Revision ID: 0004_situation_room
Revises: 0003_communities
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_situation_room"
down_revision = "0003_communities"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _incident(name: str = "incident_id", primary: bool = False) -> sa.Column:  # type: ignore[type-arg,unused-ignore]
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey("incident.id"),
        primary_key=primary,
        autoincrement=False,
        nullable=False,
    )


def upgrade() -> None:
    """Create the situation-room tables."""
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "incident_topic",
        _incident(primary=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident(),
        _ts("at", nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(128), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_incident_event_incident_id", "incident_event", ["incident_id"])
    op.create_table(
        "incident_deadline",
        _incident(primary=True),
        sa.Column("priority", sa.String(4), nullable=False),
        _ts("due_at", nullable=False),
        sa.Column("step", sa.Integer(), nullable=False, server_default="0"),
        _ts("next_at"),
        _ts("cancelled_at"),
        _ts("updated_at", nullable=False),
    )
    op.create_index("ix_incident_deadline_next_at", "incident_deadline", ["next_at"])
    op.create_table(
        "agency_handover",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident(),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        _ts("at", nullable=False),
    )
    op.create_index("ix_agency_handover_incident_id", "agency_handover", ["incident_id"])
    op.create_table(
        "incident_followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident(),
        sa.Column("citizen_user_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        _ts("due_at", nullable=False),
        _ts("asked_at"),
        sa.Column("answer", sa.String(16), nullable=True),
        _ts("answered_at"),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    op.create_index("ix_incident_followup_incident_id", "incident_followup", ["incident_id"])
    op.create_index("ix_incident_followup_due_at", "incident_followup", ["due_at"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        _ts("until", nullable=False),
    )
    op.create_table(
        "duty_override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
        _ts("starts_at", nullable=False),
        _ts("ends_at", nullable=False),
        sa.Column("set_by", sa.BigInteger(), nullable=True),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "shift_handover",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("shift_start", nullable=False),
        sa.Column("outgoing_team", sa.String(64), nullable=True),
        sa.Column("incoming_team", sa.String(64), nullable=False),
        _ts("posted_at", nullable=False),
        sa.UniqueConstraint("shift_start", name="uq_shift_handover_shift_start"),
    )


def downgrade() -> None:
    """Drop the situation-room tables."""
    for table in (
        "shift_handover",
        "duty_override",
        "scheduler_lease",
        "incident_followup",
        "agency_handover",
        "incident_deadline",
        "incident_event",
        "incident_topic",
        "staff_member",
    ):
        op.drop_table(table)
