"""Repository of incident topics in the staff supergroup.

A topic's thread id is only known once the sender created it; :func:`thread_of` reads it from
the outbox row that created the topic.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.outbox import OutboxMessage, OutboxStatus
from storage.models.topics import IncidentTopic
from storage.outbox import find


def topic_correlation(incident_id: int, generation: int = 1) -> str:
    """Name the outbox row that creates generation ``generation`` of an incident's topic."""
    suffix = "" if generation == 1 else f":{generation}"
    return f"incident:{incident_id}:topic{suffix}"


def card_correlation(incident_id: int, generation: int = 1) -> str:
    """Name the outbox row of an incident's card in generation ``generation`` of its topic."""
    suffix = "" if generation == 1 else f":{generation}"
    return f"incident:{incident_id}:card{suffix}"


async def get_topic(*, session: AsyncSession, incident_id: int) -> IncidentTopic | None:
    """Return the topic of an incident."""
    return await session.get(IncidentTopic, incident_id)


async def load_topics(
    *, session: AsyncSession, incident_ids: Collection[int]
) -> Sequence[IncidentTopic]:
    """Read the topics of many incidents with one query; :func:`get_topic` then reuses them.

    The session only holds them while the caller keeps the returned list.
    """
    if not incident_ids:
        return []
    statement = select(IncidentTopic).where(
        col(IncidentTopic.incident_id).in_(sorted(incident_ids))
    )
    return (await session.exec(statement)).all()


async def save_topic(*, session: AsyncSession, topic: IncidentTopic) -> IncidentTopic:
    """Insert or update an incident topic."""
    session.add(topic)
    await session.flush()
    return topic


async def creation_row(*, session: AsyncSession, topic: IncidentTopic) -> OutboxMessage | None:
    """Return the outbox row that created the topic's current generation."""
    return await find(
        session=session, correlation=topic_correlation(topic.incident_id, topic.generation)
    )


async def thread_of(*, session: AsyncSession, topic: IncidentTopic) -> int | None:
    """Return the topic's message thread id once the sender created it, else None."""
    row = await creation_row(session=session, topic=topic)
    if row is None or row.status != OutboxStatus.SENT:
        return None
    return row.result_thread_id


async def incident_id_for_thread(
    *, session: AsyncSession, chat_id: int, thread_id: int
) -> int | None:
    """Return the incident whose topic (any generation) is ``thread_id`` in ``chat_id``."""
    statement = (
        select(col(OutboxMessage.correlation))
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.kind) == "create_topic",
            col(OutboxMessage.result_thread_id) == thread_id,
            col(OutboxMessage.correlation).like("incident:%:topic%"),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    correlation = (await session.exec(statement)).one_or_none()
    if correlation is None:
        return None
    return int(correlation.split(":")[1])


TOPIC_ERRORS = ("topic_closed", "thread_not_found")
RECOVERED_PREFIX = "recovered: "


async def failed_topic_rows(*, session: AsyncSession, chat_id: int) -> list[OutboxMessage]:
    """Return failed rows of incident topics whose topic was closed or deleted by hand."""
    statement = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.status) == OutboxStatus.FAILED,
            col(OutboxMessage.thread_ref).like("incident:%:topic%"),
            or_(*(col(OutboxMessage.last_error).like(f"{code}:%") for code in TOPIC_ERRORS)),
        )
        .order_by(col(OutboxMessage.id))
    )
    return list((await session.exec(statement)).all())


async def mark_recovered(*, session: AsyncSession, rows: list[OutboxMessage]) -> None:
    """Note on failed rows that they were sent again, so they are not recovered twice."""
    for row in rows:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id)
            .values(last_error=f"{RECOVERED_PREFIX}{row.last_error}")
            .execution_options(synchronize_session=False)
        )
