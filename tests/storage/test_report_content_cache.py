"""A report's messages are remembered for the session like its media, and a staff-room pass
reads the media and messages of all its reports with one query each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.citizens import find_citizen, get_or_create_citizen
from storage.models.reports import Report, ReportMedia
from storage.reports import (
    add_message,
    create_report,
    mark_relayed,
    media_of_report,
    messages_of_report,
    move_report_content,
    preload_report_content,
)
from tests.storage.test_media_cache import statements

Factory = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


async def add_text(
    session: AsyncSession, report_id: int, number: int, text: str, *, chat_id: int | None = None
) -> None:
    """Record citizen text message ``number`` of a report."""
    await add_message(
        session=session,
        report_id=report_id,
        chat_id=chat_id,
        message_id=number,
        kind="text",
        text=text,
        media_group_id=None,
        created_at=NOW,
    )


async def report_with(session: AsyncSession, *, texts: list[str], photos: int = 0) -> int:
    """A report with one message per text and ``photos`` photos; returns its id."""
    report = await create_report(session=session, report=Report())
    assert report.id is not None
    for number, text in enumerate(texts, start=1):
        await add_text(session, report.id, number, text)
    for number in range(photos):
        session.add(ReportMedia(report_id=report.id, kind="photo", message_id=100 + number))
    await session.flush()
    return report.id


async def texts(session: AsyncSession, report_id: int) -> list[str | None]:
    return [
        message.text for message in await messages_of_report(session=session, report_id=report_id)
    ]


async def test_messages_are_read_once_per_session(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """The second read of a report's messages sends no query and returns the same rows."""
    async with session_factory() as session, session.begin():
        report_id = await report_with(session, texts=["fire", "smoke"])
        with statements(engine) as seen:
            assert await texts(session, report_id) == ["fire", "smoke"]
        assert len(seen) == 1
        with statements(engine) as seen:
            assert await texts(session, report_id) == ["fire", "smoke"]
        assert seen == []


async def test_add_message_forgets_the_list(session_factory: Factory) -> None:
    """A message added after a read is in the next read."""
    async with session_factory() as session, session.begin():
        report_id = await report_with(session, texts=["fire"])
        assert await texts(session, report_id) == ["fire"]
        await add_text(session, report_id, 9, "more")
        assert await texts(session, report_id) == ["fire", "more"]


async def test_a_message_is_one_insert_and_leaves_the_report_to_its_next_flush(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Recording a message sends its INSERT only; the report's own change follows later."""
    async with session_factory() as session, session.begin():
        report_id = await report_with(session, texts=[])
        report = await session.get(Report, report_id)
        assert report is not None
        report.text = "fire"
        with statements(engine) as seen:
            await add_text(session, report_id, 1, "fire", chat_id=7)
        assert [statement.split()[:3] for statement in seen] == [
            ["INSERT", "INTO", "report_message"]
        ]
        assert report in session.dirty
    async with session_factory() as session:
        stored = await session.get(Report, report_id)
        assert stored is not None and stored.text == "fire"
        (message,) = await messages_of_report(session=session, report_id=report_id)
        assert (message.chat_id, message.text, message.relayed) == (7, "fire", False)


async def test_messages_shown_to_staff_are_marked_with_one_update(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Marking a report's messages relayed is one UPDATE; the loaded rows say so at once."""
    async with session_factory() as session, session.begin():
        report_id = await report_with(session, texts=["fire", "smoke"])
        messages = await messages_of_report(session=session, report_id=report_id)
        with statements(engine) as seen:
            await mark_relayed(session=session, messages=messages)
        assert [statement.split()[:2] for statement in seen] == [["UPDATE", "report_message"]]
        assert all(message.relayed for message in messages) and not session.dirty
        with statements(engine) as seen:
            await mark_relayed(session=session, messages=messages)
        assert seen == []
    async with session_factory() as session:
        stored = await messages_of_report(session=session, report_id=report_id)
        assert [message.relayed for message in stored] == [True, True]


async def test_preload_answers_for_every_report_with_two_queries(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Preloading reads media and messages of many reports at once, empty lists included."""
    async with session_factory() as session, session.begin():
        first = await report_with(session, texts=["fire", "smoke"], photos=2)
        second = await report_with(session, texts=["flood"])
        empty = await report_with(session, texts=[])
    async with session_factory() as session, session.begin():
        with statements(engine) as seen:
            await preload_report_content(session=session, report_ids=[first, second, empty])
        assert [sql.split()[0] for sql in seen if not sql.startswith("BEGIN")] == ["SELECT"] * 2
        with statements(engine) as seen:
            assert await texts(session, first) == ["fire", "smoke"]
            assert await texts(session, second) == ["flood"]
            assert await texts(session, empty) == []
            photos = await media_of_report(session=session, report_id=first)
            assert [media.message_id for media in photos] == [100, 101]
            assert await media_of_report(session=session, report_id=second) == []
        assert seen == []


async def test_preload_of_nothing_sends_nothing(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """An empty pass costs no query."""
    async with session_factory() as session, session.begin():
        with statements(engine) as seen:
            await preload_report_content(session=session, report_ids=[])
        assert seen == []


async def test_moved_messages_follow_their_report(session_factory: Factory) -> None:
    """After moving content the remembered lists of both reports are read again."""
    async with session_factory() as session, session.begin():
        source = await report_with(session, texts=["first"])
        target = await report_with(session, texts=["second"])
        await preload_report_content(session=session, report_ids=[source, target])
        await move_report_content(session=session, source_id=source, target_id=target)
        assert await texts(session, source) == []
        assert await texts(session, target) == ["first", "second"]


async def test_an_unknown_user_is_asked_once_until_created(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """find_citizen remembers "no such citizen" in the session, until the citizen is created."""
    async with session_factory() as session, session.begin():
        assert await find_citizen(session=session, telegram_user_id=77) is None
        with statements(engine) as seen:
            assert await find_citizen(session=session, telegram_user_id=77) is None
        assert seen == []
        citizen, created = await get_or_create_citizen(
            session=session, telegram_user_id=77, now=NOW
        )
        assert created
        assert await find_citizen(session=session, telegram_user_id=77) is citizen
    async with session_factory() as session:
        found = await find_citizen(session=session, telegram_user_id=77)
        assert found is not None and found.id == citizen.id
