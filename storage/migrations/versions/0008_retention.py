"""Indexes for the retention purge; reports purged only in part are purged again.

The purge looks for reports not purged yet (a partial index: they are the recent ones, however
many were purged) and counts the media rows that still use a file (by hash and path). Earlier
versions purged only media and locations and marked the report done: the mark is lifted where
words or a link to a known citizen remain (not after /forget), so that the next purge finishes.

Revision ID: 0008_retention
Revises: 0007_outbox_notify_trigger
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_retention"
down_revision = "0007_outbox_notify_trigger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the indexes and lift the mark of reports purged in part."""
    op.create_index(
        "ix_report_unpurged",
        "report",
        ["created_at"],
        sqlite_where=sa.text("location_purged_at IS NULL"),
        postgresql_where=sa.text("location_purged_at IS NULL"),
    )
    op.create_index("ix_report_media_file", "report_media", ["sha256", "path"])
    op.execute(
        "UPDATE report SET location_purged_at = NULL"
        " WHERE location_purged_at IS NOT NULL AND (text IS NOT NULL OR citizen_id IN"
        " (SELECT id FROM citizen WHERE telegram_user_id IS NOT NULL))"
    )


def downgrade() -> None:
    """Drop the indexes (the purged data stays purged)."""
    op.drop_index("ix_report_media_file", table_name="report_media")
    op.drop_index("ix_report_unpurged", table_name="report")
