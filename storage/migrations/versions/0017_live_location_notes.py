"""What the staff topic was last shown of a live location.

``report.live_unshown_since`` is since when the live location is at a place the topic was not
shown (the sweep posts it once the note is due, or the live period ran out with no final edit);
``report.live_shown_district`` is the district the topic was last told of (crossings are
noted against it) and ``report.live_crossed_at`` when a note last told it of another district
(at most once a minute). Live locations already running are taken as shown
where they are now.

Revision ID: 0017_live_location_notes
Revises: 0016_citizen_language_chosen
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_live_location_notes"
down_revision = "0016_citizen_language_chosen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add what the staff topic was last shown of a live location, with the sweep's index."""
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("live_unshown_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("live_shown_district", sa.String(16), nullable=True))
        batch.add_column(sa.Column("live_crossed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE report SET live_shown_district = district_code WHERE live_message_id IS NOT NULL"
    )
    op.create_index(
        "ix_report_live_unshown",
        "report",
        ["live_unshown_since"],
        sqlite_where=sa.text("live_unshown_since IS NOT NULL"),
        postgresql_where=sa.text("live_unshown_since IS NOT NULL"),
    )


def downgrade() -> None:
    """Drop the columns and the index."""
    op.drop_index("ix_report_live_unshown", table_name="report")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("live_crossed_at")
        batch.drop_column("live_shown_district")
        batch.drop_column("live_unshown_since")
