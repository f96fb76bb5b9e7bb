"""Incident topics: correlations, thread lookup from the outbox, failed rows to recover."""

from __future__ import annotations

from typing import Any

from storage.models.base import utcnow
from storage.models.incidents import Incident
from storage.models.outbox import OutboxCreate
from storage.models.topics import IncidentTopic
from storage.outbox import enqueue, mark_failed, mark_sent
from storage.topics import (
    card_correlation,
    failed_topic_rows,
    incident_id_for_thread,
    mark_recovered,
    save_topic,
    thread_of,
    topic_correlation,
)
from tests.outbox_leases import TEST_WORKER, lease

CHAT = -100555


def test_correlations_name_each_generation() -> None:
    assert topic_correlation(7) == "incident:7:topic"
    assert topic_correlation(7, 3) == "incident:7:topic:3"
    assert card_correlation(7, 2) == "incident:7:card:2"


async def test_thread_lookup_and_failed_rows(session_factory: Any) -> None:
    now = utcnow()
    async with session_factory() as session, session.begin():
        incident = Incident(reference="I-1")
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        topic = await save_topic(
            session=session, topic=IncidentTopic(incident_id=incident.id, chat_id=CHAT)
        )
        assert await thread_of(session=session, topic=topic) is None
        created = await enqueue(
            session=session,
            message=OutboxCreate(
                chat_id=CHAT,
                kind="create_topic",
                payload={"name": "x"},
                correlation=topic_correlation(incident.id),
            ),
        )
        lost = await enqueue(
            session=session,
            message=OutboxCreate(
                chat_id=CHAT,
                kind="text",
                payload={"text": "y"},
                thread_ref=topic_correlation(incident.id),
            ),
        )
        other = await enqueue(
            session=session,
            message=OutboxCreate(
                chat_id=CHAT,
                kind="text",
                payload={"text": "z"},
                thread_ref=topic_correlation(incident.id),
            ),
        )
        assert created.id and lost.id and other.id
        await lease(session, created.id, lost.id, other.id)
        mine = {"session": session, "worker_id": TEST_WORKER, "now": now}
        assert await mark_sent(message_id=created.id, result_thread_id=41, **mine)
        assert await mark_failed(message_id=lost.id, error="thread_not_found: gone", **mine)
        assert await mark_failed(message_id=other.id, error="bad_request: nope", **mine)
    async with session_factory() as session, session.begin():
        topic = await session.get(IncidentTopic, incident.id)
        assert topic is not None and await thread_of(session=session, topic=topic) == 41
        assert (
            await incident_id_for_thread(session=session, chat_id=CHAT, thread_id=41) == incident.id
        )
        assert await incident_id_for_thread(session=session, chat_id=CHAT, thread_id=42) is None
        rows = await failed_topic_rows(session=session, chat_id=CHAT)
        assert [row.id for row in rows] == [lost.id]
        await mark_recovered(session=session, rows=rows)
    async with session_factory() as session:
        assert await failed_topic_rows(session=session, chat_id=CHAT) == []
