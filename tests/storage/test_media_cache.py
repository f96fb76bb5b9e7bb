"""media_of_report remembers a report's media for the session, until something changes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.reports import Report, ReportMedia
from storage.reports import add_media, create_report, media_of_report, move_report_content

Factory = async_sessionmaker[AsyncSession]


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL statements the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def without_begin(seen: list[str]) -> list[str]:
    """The statements of ``seen`` other than SQLite's ``BEGIN IMMEDIATE``."""
    return [statement for statement in seen if not statement.upper().startswith("BEGIN")]


async def new_report(session: AsyncSession, *message_ids: int) -> int:
    """A report with one photo per message id; returns its id."""
    report = await create_report(session=session, report=Report())
    assert report.id is not None
    for message_id in message_ids:
        session.add(ReportMedia(report_id=report.id, kind="photo", message_id=message_id))
    await session.flush()
    return report.id


async def message_ids(session: AsyncSession, report_id: int) -> list[int | None]:
    return [
        media.message_id for media in await media_of_report(session=session, report_id=report_id)
    ]


async def test_second_read_is_served_without_a_query(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """The same session reads a report's media once; later reads return the same rows."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 30, 10, 20)
        with statements(engine) as seen:
            first = await media_of_report(session=session, report_id=report_id)
        assert len(seen) == 1
        assert [media.message_id for media in first] == [10, 20, 30]
        with statements(engine) as seen:
            second = await media_of_report(session=session, report_id=report_id)
            third = await media_of_report(session=session, report_id=report_id)
        assert seen == []
        assert [id(media) for media in second] == [id(media) for media in first]
        assert list(third) == list(first)


async def test_callers_cannot_change_the_remembered_list(session_factory: Factory) -> None:
    """Each read returns its own list: changing it does not change the next read."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 1, 2)
        first = await media_of_report(session=session, report_id=report_id)
        assert isinstance(first, list)
        first.clear()
        assert await message_ids(session, report_id) == [1, 2]


async def test_reports_are_remembered_separately(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Reading one report's media does not answer for another report."""
    async with session_factory() as session, session.begin():
        first = await new_report(session, 1)
        second = await new_report(session, 2, 3)
        assert await message_ids(session, first) == [1]
        with statements(engine) as seen:
            assert await message_ids(session, second) == [2, 3]
        assert len(seen) == 1
        empty = await new_report(session)
        assert await message_ids(session, empty) == []
        with statements(engine) as seen:
            assert await message_ids(session, empty) == []
        assert seen == []


async def test_a_new_session_reads_again(session_factory: Factory, engine: AsyncEngine) -> None:
    """The memory belongs to the session: another session queries and sees committed media."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 1)
        assert await message_ids(session, report_id) == [1]
    async with session_factory() as session, session.begin():
        await add_media(
            session=session, media=ReportMedia(report_id=report_id, kind="photo", message_id=2)
        )
    async with session_factory() as session:
        with statements(engine) as seen:
            assert await message_ids(session, report_id) == [1, 2]
        assert any("report_media" in sql for sql in seen)


async def test_add_media_forgets_the_list(session_factory: Factory, engine: AsyncEngine) -> None:
    """After add_media the next read queries again and includes the new file."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 2)
        assert await message_ids(session, report_id) == [2]
        await add_media(
            session=session, media=ReportMedia(report_id=report_id, kind="photo", message_id=1)
        )
        with statements(engine) as seen:
            assert await message_ids(session, report_id) == [1, 2]
        assert len(seen) == 1
        with statements(engine) as seen:
            assert await message_ids(session, report_id) == [1, 2]
        assert seen == []


async def test_move_report_content_forgets_both_reports(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Moving media to another report empties the source's list and fills the target's."""
    async with session_factory() as session, session.begin():
        source = await new_report(session, 3, 1)
        target = await new_report(session, 2)
        assert await message_ids(session, source) == [1, 3]
        assert await message_ids(session, target) == [2]
        await move_report_content(session=session, source_id=source, target_id=target)
        with statements(engine) as seen:
            assert await message_ids(session, source) == []
            assert await message_ids(session, target) == [1, 2, 3]
        assert len(seen) == 2
    async with session_factory() as session:
        assert await message_ids(session, source) == []
        assert await message_ids(session, target) == [1, 2, 3]


async def test_an_expired_row_forces_a_read(session_factory: Factory, engine: AsyncEngine) -> None:
    """When one remembered row is expired the list is read again, with fresh values."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 1, 2)
        first = await media_of_report(session=session, report_id=report_id)
        first[0].file_id = "changed"
        session.add(first[0])
        await session.flush()
        session.expire(first[1])
        with statements(engine) as seen:
            again = await media_of_report(session=session, report_id=report_id)
        assert len(seen) == 1
        assert [media.message_id for media in again] == [1, 2]
        assert again[0].file_id == "changed"


async def test_a_deleted_row_forces_a_read(session_factory: Factory, engine: AsyncEngine) -> None:
    """A remembered row deleted in the session is not returned again."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 1, 2, 3)
        first = await media_of_report(session=session, report_id=report_id)
        await session.delete(first[1])
        await session.flush()
        with statements(engine) as seen:
            assert await message_ids(session, report_id) == [1, 3]
        assert len(seen) == 1


async def test_a_row_moved_away_forces_a_read(session_factory: Factory) -> None:
    """A remembered row now pointing at another report is not returned for the old one."""
    async with session_factory() as session, session.begin():
        source = await new_report(session, 1, 2)
        target = await new_report(session)
        first = await media_of_report(session=session, report_id=source)
        first[0].report_id = target
        session.add(first[0])
        await session.flush()
        assert await message_ids(session, source) == [2]


async def test_a_rollback_forgets_rows_that_were_never_committed(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Media added in a rolled-back transaction are not returned afterwards."""
    async with session_factory() as session, session.begin():
        report_id = await new_report(session, 1)
    async with session_factory() as session:
        await add_media(
            session=session, media=ReportMedia(report_id=report_id, kind="photo", message_id=2)
        )
        assert await message_ids(session, report_id) == [1, 2]
        await session.rollback()
        with statements(engine) as seen:
            assert await message_ids(session, report_id) == [1]
        assert any("report_media" in sql for sql in seen)
