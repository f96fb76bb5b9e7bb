"""An acknowledgement deadline stores when its clock started.

The start used to be derived as ``due_at`` less the priority's ack time, which stops being
true once a priority change moves ``due_at`` to keep one escalation step at a time. Rows from
before keep an empty start and the code falls back to that derivation, which is exact for every
row a priority change did not move (the ack times are configuration, so the migration cannot
fill the start in itself).

Revision ID: 0011_deadline_clock_start
Revises: 0010_command_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_deadline_clock_start"
down_revision = "0010_command_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable clock start to the deadlines."""
    op.add_column(
        "incident_deadline", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Drop the clock start (a batch: SQLite rebuilds the table)."""
    with op.batch_alter_table("incident_deadline") as batch:
        batch.drop_column("started_at")
