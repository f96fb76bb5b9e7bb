"""The in-process intake benchmark (benchmarks/intake.py) runs the real domain: a smoke test,
no timing is asserted (figures belong in the README, see ``make bench``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.intake import LOCAL_HOSTS, WARM_UP_CITIZENS, run_intake
from storage.engine import is_postgres
from storage.models.reports import Report, ReportStatus


async def test_every_simulated_citizen_files_a_located_report(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Four citizens (plus the warm-up) each file one located report; statements are counted."""
    result = await run_intake(database_url, label="test", citizens=4, workdir=tmp_path, batch=2)
    assert result.statements > 4 * 10
    assert result.intake_cpu > 0 and result.staff_room_cpu > 0
    if is_postgres(database_url) and make_url(database_url).host in LOCAL_HOSTS:
        assert result.server_cpu is not None and result.server_cpu > 0
    else:
        assert result.server_cpu is None
    async with session_factory() as session:
        filed = await session.exec(
            select(func.count())
            .select_from(Report)
            .where(
                col(Report.status) == ReportStatus.FILED,
                col(Report.latitude).is_not(None),
                col(Report.incident_id).is_not(None),
            )
        )
        assert filed.one() == 4 + WARM_UP_CITIZENS
