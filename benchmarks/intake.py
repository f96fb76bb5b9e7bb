"""Intake in process: the domain's cost per report without Telegram, HTTP or other processes.

Each citizen sends a text, then a location; every ``batch`` citizens the staff-room projector
brings the staff room up to date, as ``bot.projector`` does after commits. Each message runs in
its own transaction with what the worker's middlewares do first (the update claim, the citizen
and staff lookups). Printed per report: CPU in intake and in the staff room, and the SQL
statements sent, counted at the driver. The statement count does not depend on the host's
speed: it is the figure to compare between two versions; CPU varies with the host like the
surge's figures do. On PostgreSQL running on the same host it also prints the server's CPU per
report: the time its backends for this run spent on a CPU (``/proc/<pid>/schedstat``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.surge import PLACES, REPORT_TEXTS
from situation import scenarios
from situation.intake import IncomingMessage, IncomingPlace, IntakeConfig, receive_message
from situation.staffroom import RoomConfig, StaffRoom, sync_topics
from storage.citizens import find_citizen
from storage.engine import (
    application_name,
    create_engine,
    create_session_factory,
    is_postgres,
    split_search_path,
)
from storage.migrate import upgrade
from storage.outbox import OutboxSignal
from storage.updates import claim_update_from

STAFF_CHAT = -1_001_000_000_001
WARM_UP_CITIZENS = 20
LOCAL_HOSTS = (None, "", "localhost", "127.0.0.1", "::1")


@dataclass
class IntakeResult:
    """The figures of one in-process run."""

    label: str
    citizens: int
    intake_cpu: float = 0.0
    staff_room_cpu: float = 0.0
    statements: int = 0
    server_cpu: float | None = None  # PostgreSQL's backends, when they run on this host

    def per_report_ms(self, seconds: float) -> float:
        """Milliseconds per report."""
        return seconds * 1000 / self.citizens


@contextmanager
def _counting(engine: AsyncEngine) -> Iterator[list[int]]:
    """Count the statements the engine sends while the block runs."""
    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _server_cpu(engine: AsyncEngine, database_url: str) -> dict[int, int] | None:
    """CPU nanoseconds used so far by each PostgreSQL backend of this run, if on this host."""
    if not is_postgres(database_url) or make_url(database_url).host not in LOCAL_HOSTS:
        return None
    name = application_name(split_search_path(database_url)[1])
    async with engine.connect() as conn:
        pids = (
            await conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            )
        ).scalars()
        return _cpu_used(list(pids))


def _cpu_used(pids: list[int]) -> dict[int, int] | None:
    """Each process's CPU nanoseconds from /proc; ``None`` if one is not on this host."""
    used = {}
    for pid in pids:
        try:
            used[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return used


async def run_intake(
    database_url: str, *, label: str, citizens: int, workdir: Path, batch: int = 10
) -> IntakeResult:
    """Run intake and staff room for ``citizens`` reports on a migrated database."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    session_factory = create_session_factory(engine)
    OutboxSignal().attach(session_factory)
    scenarios.warm_up()
    room = RoomConfig(chat_id=STAFF_CHAT)
    listeners = [StaffRoom(room, wake=lambda: None)]
    config = IntakeConfig(media_dir=workdir / "intake-media")
    update_ids = iter(range(1, 10**9))

    async def message(incoming: IncomingMessage) -> None:
        async with session_factory() as session, session.begin():
            await claim_update_from(
                session=session,
                bot_id=1,
                update_id=next(update_ids),
                telegram_user_id=incoming.user_id,
            )
            await find_citizen(session=session, telegram_user_id=incoming.user_id)
            await receive_message(
                session=session,
                message=incoming,
                config=config,
                now=datetime.now(UTC),
                listeners=listeners,
            )

    async def report(index: int) -> None:
        user = 10_000_000 + index
        await message(
            IncomingMessage(
                user_id=user,
                chat_id=user,
                message_id=1,
                lang="ko",
                kind="text",
                text=REPORT_TEXTS[index % len(REPORT_TEXTS)],
            )
        )
        latitude, longitude = PLACES[index % len(PLACES)]
        await message(
            IncomingMessage(
                user_id=user,
                chat_id=user,
                message_id=2,
                lang="ko",
                kind="location",
                place=IncomingPlace(latitude=latitude + index * 1e-5, longitude=longitude),
            )
        )

    async def project() -> None:
        while True:
            async with session_factory() as session, session.begin():
                synced = await sync_topics(
                    session=session, room=room, now=datetime.now(UTC), limit=50
                )
                if not synced.posted:
                    return

    result = IntakeResult(label=label, citizens=citizens)
    try:
        for index in range(WARM_UP_CITIZENS):  # compiled caches, prepared statements
            await report(citizens + index)
        await project()
        server_before = await _server_cpu(engine, database_url)
        with _counting(engine) as statements:
            for start in range(0, citizens, batch):
                begun = time.process_time()
                for index in range(start, min(citizens, start + batch)):
                    await report(index)
                between = time.process_time()
                await project()
                result.intake_cpu += between - begun
                result.staff_room_cpu += time.process_time() - between
        result.statements = statements[0]
        server_after = await _server_cpu(engine, database_url)
        if server_before is not None and server_after is not None:
            # A backend opened during the run counts from zero: all its CPU is the run's.
            used = sum(ns - server_before.get(pid, 0) for pid, ns in server_after.items())
            result.server_cpu = used / 1e9
    finally:
        await engine.dispose()
    return result


async def run_intakes(
    *, citizens: int, databases: list[str], postgres_url: str, workdir: Path
) -> list[IntakeResult]:
    """Run the in-process intake on each database (a fresh SQLite file, a fresh schema)."""
    results = []
    for name in databases:
        if name == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'intake.db'}"
            results.append(
                await run_intake(url, label="SQLite", citizens=citizens, workdir=workdir)
            )
        elif name == "postgres":
            schema = f"bench_intake_{uuid.uuid4().hex[:8]}"
            admin = create_engine(postgres_url)
            try:
                async with admin.begin() as connection:
                    await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                separator = "&" if "?" in postgres_url else "?"
                url = f"{postgres_url}{separator}search_path={schema}"
                results.append(
                    await run_intake(url, label="PostgreSQL", citizens=citizens, workdir=workdir)
                )
            finally:
                async with admin.begin() as connection:
                    await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await admin.dispose()
    return results


def print_intake(results: list[IntakeResult]) -> None:
    """Print the in-process table."""
    header = (
        f"{'intake in process':<26}{'reports':>8}{'intake ms':>11}{'staff room ms':>15}"
        f"{'statements':>12}{'PostgreSQL ms':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        server = "-" if r.server_cpu is None else f"{r.per_report_ms(r.server_cpu):.2f}"
        print(
            f"{r.label:<26}{r.citizens:>8}{r.per_report_ms(r.intake_cpu):>11.2f}"
            f"{r.per_report_ms(r.staff_room_cpu):>15.2f}{r.statements / r.citizens:>12.1f}"
            f"{server:>15}"
        )
    print("(per report: CPU of this process, SQL statements sent, and the CPU of PostgreSQL's")
    print(" backends for this run when they run on this host)")
    print()
