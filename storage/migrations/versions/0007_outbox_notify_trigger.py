"""On PostgreSQL, a statement trigger on the outbox sends the NOTIFY that wakes the senders.

The session used to send ``SELECT pg_notify(...)`` itself in every transaction that queued
messages: a round trip per update. The trigger sends the same notification on the same channel
(``storage.outbox.NOTIFY_CHANNEL``) with the inserting connection's ``jikimi.origin`` setting
as payload (see ``storage.engine``), '' for connections without one. PostgreSQL folds identical
notifications of one transaction into one. SQLite has no NOTIFY: nothing changes there.

Revision ID: 0007_outbox_notify_trigger
Revises: 0006_guidance_priority
"""

from __future__ import annotations

from alembic import op

revision = "0007_outbox_notify_trigger"
down_revision = "0006_guidance_priority"
branch_labels = None
depends_on = None

CREATE_FUNCTION = """
CREATE FUNCTION jikimi_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jikimi_outbox', coalesce(current_setting('jikimi.origin', true), ''));
    RETURN NULL;
END
$$
"""

CREATE_TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION jikimi_outbox_notify()
"""


def upgrade() -> None:
    """Create the function and the trigger (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    """Drop the trigger and the function (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION jikimi_outbox_notify()")
