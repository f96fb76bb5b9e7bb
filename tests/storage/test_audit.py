"""An audit event is one INSERT sent at once; the timeline reads events in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import add_event, events_of_incident
from storage.incidents import create_incident
from storage.models.incidents import Incident
from tests.storage.test_media_cache import statements, without_begin

Factory = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_an_event_is_one_insert_that_leaves_pending_changes_alone(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """The INSERT goes out at once, and a changed incident waits for its own flush."""
    async with session_factory() as session, session.begin():
        incident = await create_incident(session=session, incident=Incident(reference="I-1"))
        assert incident.id is not None
        incident.priority = "P1"
        with statements(engine) as seen:
            await add_event(
                session=session,
                incident_id=incident.id,
                at=NOW,
                action="priority",
                actor_id=42,
                actor_name="Kim",
                before={"priority": "P3"},
                after={"priority": "P1"},
            )
        (insert,) = without_begin(seen)
        assert insert.upper().startswith("INSERT INTO INCIDENT_EVENT")
        assert session.is_modified(incident)


async def test_the_timeline_has_every_field_in_order(session_factory: Factory) -> None:
    """Events come back oldest first with what was recorded, JSON included."""
    async with session_factory() as session, session.begin():
        incident = await create_incident(session=session, incident=Incident(reference="I-2"))
        assert incident.id is not None
        await add_event(session=session, incident_id=incident.id, at=NOW, action="open")
        await add_event(
            session=session,
            incident_id=incident.id,
            at=NOW + timedelta(minutes=1),
            action="take",
            actor_id=7,
            actor_name="Lee",
            after={"holder": "7"},
            note="on it",
        )
    async with session_factory() as session:
        events = await events_of_incident(session=session, incident_id=incident.id)
    assert [(e.action, e.at, e.actor_id, e.actor_name, e.after, e.note) for e in events] == [
        ("open", NOW, None, None, None, None),
        ("take", NOW + timedelta(minutes=1), 7, "Lee", {"holder": "7"}, "on it"),
    ]
