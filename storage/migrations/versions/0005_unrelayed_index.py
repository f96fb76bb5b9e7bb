"""Partial index on report messages not yet shown in the staff room.

The staff-room projector (bot/projector.py) looks for them after every citizen commit; without
the index each pass would read the whole report_message table.

Revision ID: 0005_unrelayed_index
Revises: 0004_situation_room
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_unrelayed_index"
down_revision = "0004_situation_room"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the partial index."""
    op.create_index(
        "ix_report_message_unrelayed",
        "report_message",
        ["report_id"],
        sqlite_where=sa.text("relayed = 0"),
        postgresql_where=sa.text("relayed = false"),
    )


def downgrade() -> None:
    """Drop the partial index."""
    op.drop_index("ix_report_message_unrelayed", table_name="report_message")
