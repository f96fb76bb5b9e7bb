"""An agency hand-over moved by a merge remembers the incident it was recorded on.

A merge moves the source incident's hand-overs to the target; the source's export lists them
still, as moved. Hand-overs moved before this revision have no origin recorded (the merge did
not keep one), so the export of their source lists them no more than it did.

Revision ID: 0014_handover_origin
Revises: 0013_forwarded_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_handover_origin"
down_revision = "0013_forwarded_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable origin incident (indexed) to the agency hand-overs."""
    with op.batch_alter_table("agency_handover") as batch:
        batch.add_column(sa.Column("origin_incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_agency_handover_origin_incident_id_incident",
            "incident",
            ["origin_incident_id"],
            ["id"],
        )
        batch.create_index("ix_agency_handover_origin_incident_id", ["origin_incident_id"])


def downgrade() -> None:
    """Drop the origin incident (a batch: SQLite rebuilds the table)."""
    with op.batch_alter_table("agency_handover") as batch:
        batch.drop_index("ix_agency_handover_origin_incident_id")
        batch.drop_constraint("fk_agency_handover_origin_incident_id_incident", type_="foreignkey")
        batch.drop_column("origin_incident_id")
