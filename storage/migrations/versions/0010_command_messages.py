"""Citizens' command messages, so an edit of "/cancel why" into plain words files nothing.

Revision ID: 0010_command_messages
Revises: 0009_citizen_retention
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_command_messages"
down_revision = "0009_citizen_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the command_message table."""
    op.create_table(
        "command_message",
        sa.Column("citizen_id", sa.Integer(), sa.ForeignKey("citizen.id"), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", "message_id"),
    )


def downgrade() -> None:
    """Drop the command_message table."""
    op.drop_table("command_message")
