"""A citizen's language is either chosen with /lang or remembered from what they wrote.

``citizen.language_chosen`` tells the two apart: a chosen language always wins, a remembered
one follows the language of the citizen's reports. Every language stored before this revision
was chosen with /lang.

Revision ID: 0016_citizen_language_chosen
Revises: 0015_member_prepared_from
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_citizen_language_chosen"
down_revision = "0015_member_prepared_from"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add citizen.language_chosen, true for every language stored so far."""
    op.add_column(
        "citizen",
        sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE citizen SET language_chosen = TRUE WHERE language IS NOT NULL")


def downgrade() -> None:
    """Drop citizen.language_chosen (remembered languages then read as chosen ones)."""
    op.drop_column("citizen", "language_chosen")
