"""Changed rows are written with one Core UPDATE each and leave the session clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.incidents import create_incident
from storage.models.incidents import Incident
from storage.models.reports import Report, ReportMedia, ReportStatus
from storage.models.updates import ProcessedUpdate
from storage.reports import create_report
from storage.writes import write_changed
from tests.storage.test_media_cache import statements, without_begin

Factory = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def _stored(session_factory: Factory, report_id: int) -> Report:
    async with session_factory() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        return report


async def test_a_changed_report_is_one_update_of_its_changed_columns(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """Only the columns set are sent; the commit after it has nothing left to write."""
    async with session_factory() as session:
        async with session.begin():
            report = await create_report(session=session, report=Report(text="smoke"))
            assert report.id is not None
        async with session.begin():
            report.text = "smoke and fire"
            report.status = ReportStatus.FILED
            report.filed_at = NOW
            with statements(engine) as seen:
                assert await write_changed(session=session) == 1
            (update,) = without_begin(seen)
            assert update.upper().startswith("UPDATE REPORT SET")
            assert "text" in update and "filed_at" in update and "scenario" not in update
            assert not session.dirty and not session.is_modified(report)
            with statements(engine) as at_commit:
                await session.commit()
            assert not any(s.lstrip().upper().startswith("UPDATE") for s in at_commit)
    stored = await _stored(session_factory, report.id)
    assert (stored.text, stored.status, stored.filed_at) == ("smoke and fire", "filed", NOW)


async def test_the_written_row_stays_in_the_session_and_can_change_again(
    session_factory: Factory,
) -> None:
    """The same object is the session's row after the write; a later change is written too."""
    async with session_factory() as session, session.begin():
        report = await create_report(session=session, report=Report(text="flood"))
        assert report.id is not None
        report.message_count = 2
        await write_changed(session=session)
        assert await session.get(Report, report.id) is report
        report.message_count = 3
        assert session.is_modified(report)
        await session.flush()
    assert (await _stored(session_factory, report.id)).message_count == 3


async def test_each_changed_row_of_each_table_is_written_and_new_rows_wait_for_the_flush(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """A report and the incident it joined: two UPDATEs; a new media row is left to the ORM."""
    async with session_factory() as session:
        async with session.begin():
            incident = await create_incident(session=session, incident=Incident(reference="I-1"))
            report = await create_report(session=session, report=Report(text="fire"))
            assert incident.id is not None and report.id is not None
        async with session.begin():
            incident.report_count += 1
            report.incident_id = incident.id
            media = ReportMedia(report_id=report.id, kind="photo", message_id=7)
            session.add(media)
            with statements(engine) as seen:
                assert await write_changed(session=session) == 2
            assert sorted(s.split()[1].lower() for s in without_begin(seen)) == [
                "incident",
                "report",
            ]
            assert media in session.new
        async with session_factory() as check:
            stored = await check.get(Incident, incident.id)
            assert stored is not None and stored.report_count == 1
            photos = (await check.exec(select(ReportMedia))).all()
            assert [(photo.report_id, photo.message_id) for photo in photos] == [(report.id, 7)]
    assert (await _stored(session_factory, report.id)).incident_id == incident.id


async def test_nothing_changed_writes_nothing(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """A loaded row set to its own value, or untouched, sends no statement."""
    async with session_factory() as session, session.begin():
        report = await create_report(session=session, report=Report(text="quake"))
        report.text = "quake"
        with statements(engine) as seen:
            assert await write_changed(session=session) == 0
        assert without_begin(seen) == []


async def test_a_row_with_a_two_column_key_is_written_by_both(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """A processed update (bot id and update id) is found by its whole key."""
    async with session_factory() as session, session.begin():
        for update_id in (1, 2):
            session.add(ProcessedUpdate(bot_id=9, update_id=update_id, processed_at=NOW))
        await session.flush()
        row = await session.get(ProcessedUpdate, (9, 2))
        assert row is not None
        row.processed_at = NOW + timedelta(hours=1)
        assert await write_changed(session=session) == 1
    async with session_factory() as check:
        stamps = {
            row.update_id: row.processed_at for row in (await check.exec(select(ProcessedUpdate)))
        }
    assert stamps == {1: NOW, 2: NOW + timedelta(hours=1)}


async def test_a_changed_key_is_left_to_the_orm(session_factory: Factory) -> None:
    """A row whose key changes is not written here; the session's flush moves it."""
    async with session_factory() as session, session.begin():
        session.add(ProcessedUpdate(bot_id=9, update_id=5, processed_at=NOW))
        await session.flush()
        row = await session.get(ProcessedUpdate, (9, 5))
        assert row is not None
        row.update_id = 6
        assert await write_changed(session=session) == 0
        assert session.is_modified(row)
    async with session_factory() as check:
        assert [row.update_id for row in (await check.exec(select(ProcessedUpdate)))] == [6]
