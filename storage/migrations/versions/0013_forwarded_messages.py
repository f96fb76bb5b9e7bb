"""Where a citizen's forwarded message came from, kept with the message.

A forwarded channel post or a message forwarded from someone else is not an eyewitness report:
the staff room shows its origin.

Revision ID: 0013_forwarded_messages
Revises: 0012_hub_join_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_forwarded_messages"
down_revision = "0012_hub_join_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add report_message.forwarded_from."""
    with op.batch_alter_table("report_message") as batch:
        batch.add_column(sa.Column("forwarded_from", sa.String(256), nullable=True))


def downgrade() -> None:
    """Drop report_message.forwarded_from."""
    with op.batch_alter_table("report_message") as batch:
        batch.drop_column("forwarded_from")
