"""Join requests to the experts' hub, with the decision and whether Telegram has it yet.

The decision is committed before the approval or decline is called, outside the update's
transaction; a request left pending (the worker died in between) is finished by the sweep.

Revision ID: 0012_hub_join_requests
Revises: 0011_deadline_clock_start
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_hub_join_requests"
down_revision = "0011_deadline_clock_start"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the hub_join_request table."""
    op.create_table(
        "hub_join_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hub_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("invite_link", sa.String(128), nullable=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("community.id"), nullable=True),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("staff_language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_hub_join_request_state", "hub_join_request", ["state"])


def downgrade() -> None:
    """Drop the hub_join_request table."""
    op.drop_index("ix_hub_join_request_state", table_name="hub_join_request")
    op.drop_table("hub_join_request")
