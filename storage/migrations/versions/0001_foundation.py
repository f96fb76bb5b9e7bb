"""Foundation: the outbox, processed updates, chat reachability and failed updates.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the outbox, processed_update, chat_state and failed_update tables."""
    op.create_table(
        "outbox",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_ref", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("target_ref", sa.String(length=200), nullable=True),
        sa.Column("correlation", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at", nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        _ts("lease_until", nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("result_message_id", sa.BigInteger(), nullable=True),
        sa.Column("result_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("correlation"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_chat_status", "outbox", ["chat_id", "status", "id"])

    op.create_table(
        "processed_update",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        _ts("processed_at", nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    op.create_index("ix_processed_update_processed_at", "processed_update", ["processed_at"])

    op.create_table(
        "chat_state",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        _ts("since", nullable=True),
        sa.PrimaryKeyConstraint("chat_id"),
    )

    op.create_table(
        "failed_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_failed_update_update_id", "failed_update", ["update_id"])


def downgrade() -> None:
    """Drop the foundation tables."""
    op.drop_index("ix_failed_update_update_id", table_name="failed_update")
    op.drop_table("failed_update")
    op.drop_table("chat_state")
    op.drop_index("ix_processed_update_processed_at", table_name="processed_update")
    op.drop_table("processed_update")
    op.drop_index("ix_outbox_chat_status", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
