"""The staff room's pass finds reports with unshown messages without reading every message."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.incidents import Incident, IncidentStatus
from storage.models.reports import Report, ReportMessage, ReportStatus
from storage.reports import _reports_to_show, reports_to_show

Factory = async_sessionmaker[AsyncSession]
SENT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def _incident(session: AsyncSession, reference: str, status: str) -> int:
    incident = Incident(reference=reference, status=status)
    session.add(incident)
    await session.flush()
    assert incident.id is not None
    return incident.id


async def _report(
    session: AsyncSession, incident_id: int | None, status: str, relayed: list[bool]
) -> int:
    report = Report(incident_id=incident_id, status=status, language="ko")
    session.add(report)
    await session.flush()
    assert report.id is not None
    for number, shown in enumerate(relayed):
        session.add(
            ReportMessage(report_id=report.id, message_id=number, kind="text", relayed=shown)
        )
    await session.flush()
    return report.id


async def test_only_filed_reports_of_open_incidents_with_unshown_messages(
    session_factory: Factory,
) -> None:
    """Each such report once, oldest first, at most ``limit``; the rest are left out."""
    async with session_factory() as session, session.begin():
        open_id = await _incident(session, "I-1", IncidentStatus.NEW)
        closed_id = await _incident(session, "I-2", IncidentStatus.CLOSED)
        two_unshown = await _report(session, open_id, ReportStatus.FILED, [False, False, True])
        await _report(session, open_id, ReportStatus.FILED, [True, True])  # all shown
        await _report(session, open_id, ReportStatus.DRAFT, [False])  # not filed yet
        await _report(session, closed_id, ReportStatus.FILED, [False])  # incident closed
        await _report(session, None, ReportStatus.FILED, [False])  # no incident yet
        one_unshown = await _report(session, open_id, ReportStatus.FILED, [True, False])

    async with session_factory() as session:
        every = await reports_to_show(session=session)
        first = await reports_to_show(session=session, limit=1)
    assert [report.id for report in every] == [two_unshown, one_unshown]
    assert [report.id for report in first] == [two_unshown]


async def test_the_pass_reads_unshown_messages_through_their_partial_index(
    session_factory: Factory, engine: AsyncEngine
) -> None:
    """With many shown messages the plan starts from ix_report_message_unrelayed.

    The query once said ``relayed IS FALSE``, which that index (``WHERE relayed = false``)
    cannot answer: every pass read every message ever stored.
    """
    async with session_factory() as session, session.begin():
        open_id = await _incident(session, "I-1", IncidentStatus.NEW)
        report_id = await _report(session, open_id, ReportStatus.FILED, [False])
        await session.exec(
            insert(ReportMessage),  # type: ignore[call-overload]
            params=[
                {
                    "report_id": report_id,
                    "message_id": n,
                    "kind": "text",
                    "relayed": True,
                    "created_at": SENT,
                }
                for n in range(1, 3001)
            ],
        )
    dialect = engine.dialect.name
    explain = "EXPLAIN QUERY PLAN" if dialect == "sqlite" else "EXPLAIN"
    compiled = (
        _reports_to_show()
        .limit(50)
        .compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    )
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        rows = (await conn.execute(text(f"{explain} {compiled}"))).all()
    plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_report_message_unrelayed" in plan, plan
