"""The retention purge anonymises citizens quiet for longer than the retention period.

It looks for known citizens (a Telegram user id) by when they were last active: a partial
index holds them, and every known citizen gets a ``last_seen_at`` (rows from before it was
always written get their creation time).

Revision ID: 0009_citizen_retention
Revises: 0008_retention
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_citizen_retention"
down_revision = "0008_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Give every known citizen a last activity and index the known ones by it."""
    op.execute(
        "UPDATE citizen SET last_seen_at = created_at"
        " WHERE telegram_user_id IS NOT NULL AND last_seen_at IS NULL"
    )
    op.create_index(
        "ix_citizen_known_seen",
        "citizen",
        ["last_seen_at"],
        sqlite_where=sa.text("telegram_user_id IS NOT NULL"),
        postgresql_where=sa.text("telegram_user_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Drop the index (the filled-in activity times stay)."""
    op.drop_index("ix_citizen_known_seen", table_name="citizen")
