"""Invitations prepared outside the deciding transaction: what a "preparing" member was before.

An invitation round marks the memberships it decided "preparing" and commits; the hub check and
the invite link follow with no transaction open. If Telegram refuses, the membership returns to
``prepared_from`` (a new one, with none, is dropped).

Revision ID: 0015_member_prepared_from
Revises: 0014_handover_origin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_member_prepared_from"
down_revision = "0014_handover_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add community_member.prepared_from."""
    with op.batch_alter_table("community_member") as batch:
        batch.add_column(sa.Column("prepared_from", sa.String(16), nullable=True))


def downgrade() -> None:
    """Drop community_member.prepared_from (older code invites "preparing" members again)."""
    with op.batch_alter_table("community_member") as batch:
        batch.drop_column("prepared_from")
