"""An incident card's figures are read with one statement."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cards import CardFigures, card_figures
from storage.models.escalations import AgencyHandover, IncidentDeadline
from storage.models.incidents import Incident
from storage.models.reports import Report, ReportMedia, ReportStatus
from tests.storage.test_media_cache import statements

Factory = async_sessionmaker[AsyncSession]
DUE = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)


async def test_card_figures_come_from_filed_reports_in_one_query(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """The first filed words, the photos of filed reports, the deadline and the hand-overs."""
    async with session_factory() as session, session.begin():
        incident = Incident(reference="I-1")
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        reports = [
            Report(incident_id=incident.id, status=ReportStatus.DRAFT, text="draft words"),
            Report(incident_id=incident.id, status=ReportStatus.FILED, text=""),
            Report(incident_id=incident.id, status=ReportStatus.FILED, text="first words"),
            Report(incident_id=incident.id, status=ReportStatus.FILED, text="later words"),
            Report(status=ReportStatus.FILED, text="another incident"),
        ]
        session.add_all(reports)
        await session.flush()
        media = [
            (reports[0], "photo", "draft-photo"),  # not filed
            (reports[2], "photo", "a"),
            (reports[3], "photo", "b"),
            (reports[3], "photo", ""),  # not stored
            (reports[3], "video", "c"),
            (reports[4], "photo", "d"),  # another incident
        ]
        for number, (report, kind, file_id) in enumerate(media):
            assert report.id is not None
            session.add(
                ReportMedia(report_id=report.id, kind=kind, message_id=number, file_id=file_id)
            )
        empty = Incident(reference="I-2")
        session.add(empty)
        await session.flush()
        assert empty.id is not None

        session.add(IncidentDeadline(incident_id=incident.id, priority="P2", due_at=DUE))
        session.add_all(
            AgencyHandover(incident_id=incident.id, agency=agency, method="phone")
            for agency in ("119", "district")
        )
        await session.flush()

        with statements(engine) as seen:
            figures = await card_figures(session=session, incident_id=incident.id)
        assert figures == CardFigures(
            words="first words", photos=2, ack_due_at=DUE, handovers=2, chasing=True
        )
        assert len(seen) == 1
        assert await card_figures(session=session, incident_id=empty.id) == CardFigures(
            words=None, photos=0, ack_due_at=None, handovers=0
        )
