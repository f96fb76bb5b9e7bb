"""Outbox priority 0 is now the action manual; the other priorities move down by one.

Before: 0 citizen reply, 1 staff notice, 2 bulk. After: 0 guidance (the manual), 1 citizen
reply, 2 staff notice, 3 bulk (``storage.models.outbox.Priority``). Unsent rows keep their place.

Revision ID: 0006_guidance_priority
Revises: 0005_unrelayed_index
"""

from __future__ import annotations

from alembic import op

revision = "0006_guidance_priority"
down_revision = "0005_unrelayed_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Move every existing row's priority down by one."""
    op.execute("UPDATE outbox SET priority = priority + 1")


def downgrade() -> None:
    """Move priorities back up; guidance becomes a citizen reply again."""
    op.execute("UPDATE outbox SET priority = CASE WHEN priority > 0 THEN priority - 1 ELSE 0 END")
