"""/forget erases a citizen's personal data; the retention purge erases what expired."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.file_release import FileReleaser
from situation.intake import IncomingFile, IncomingMessage, IncomingPlace, receive_message
from situation.privacy import PurgeSummary, forget_citizen, purge_expired
from storage.chats import get_chat_state, mark_unreachable
from storage.citizens import find_citizen, get_or_create_citizen, remember_command_message
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models.citizens import Citizen
from storage.models.commands import CommandMessage
from storage.models.failures import FailedUpdate
from storage.models.incidents import Incident
from storage.models.outbox import OutboxMessage, OutboxStatus
from storage.models.reports import MediaStatus, Report, ReportMedia, ReportMessage
from tests.fixtures.media import refuse_deleting_under
from tests.situation.conftest import START, Steps

PLACE = IncomingPlace(latitude=37.5663, longitude=126.9779)
STILL_WAITING = 0.5  # how long a blocked transaction is watched before the other commits
PATIENCE = 20.0


def jpeg(tag: bytes) -> IncomingFile:
    data = b"\xff\xd8" + tag
    return IncomingFile(
        kind="photo", file_id=tag.decode(), size=len(data), suffix=".jpg", data=data
    )


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_forget_removes_personal_data_and_keeps_anonymous_incident(
    steps: Steps, media_dir: Path
) -> None:
    await steps.send(4001, text="불이 났어요 제 이름은 홍길동")
    await steps.send(4001, kind="photo", file=jpeg(b"mine"), now=START + timedelta(seconds=2))
    await steps.send(4001, kind="location", place=PLACE, now=START + timedelta(seconds=4))
    # Someone else sent the very same picture: the shared file must survive.
    await steps.send(4002, kind="photo", file=jpeg(b"mine"), now=START + timedelta(seconds=5))
    await steps.send(4001, kind="photo", file=jpeg(b"only-mine"), now=START + timedelta(seconds=6))
    # Forwarded from a person: their name is personal data too.
    await steps.send(
        4001,
        text="3층에 사람 있대요",
        forwarded_from="김철수 (@cheolsu)",
        now=START + timedelta(seconds=7),
    )
    assert len(files(media_dir)) == 2

    releaser = FileReleaser(session_factory=steps.session_factory, media_dir=media_dir)
    async with steps.tx() as session:
        await mark_unreachable(session=session, chat_id=4001, reason="blocked", now=START)
    async with steps.tx() as session:
        summary = await forget_citizen(
            session=session,
            telegram_user_id=4001,
            releaser=releaser,
            now=START + timedelta(hours=1),
        )
        assert await get_chat_state(session=session, chat_id=4001) is None
    assert summary is not None and summary.reports == 1 and summary.media == 2
    await releaser.wait()

    async with steps.tx() as session:
        citizens = (await session.exec(select(Citizen).order_by(col(Citizen.id)))).all()
        assert citizens[0].telegram_user_id is None and citizens[0].forgotten_at is not None
        assert citizens[0].language is None  # remembered from "불이 났어요": forgotten too
        report = (
            await session.exec(select(Report).where(col(Report.citizen_id) == citizens[0].id))
        ).one()
        assert report.text is None and report.latitude is None and report.longitude is None
        assert report.reference and report.scenario == "fire" and report.district_name == "중구"
        media = (
            await session.exec(select(ReportMedia).where(col(ReportMedia.report_id) == report.id))
        ).all()
        assert all(
            m.status == MediaStatus.PURGED and m.path is None and m.file_id is None for m in media
        )
        messages = (
            await session.exec(
                select(ReportMessage).where(col(ReportMessage.report_id) == report.id)
            )
        ).all()
        assert all(m.text is None and m.chat_id is None for m in messages)
        assert len(messages) == 5 and all(m.forwarded_from is None for m in messages)
        incident = (await session.exec(select(Incident))).one()
        assert incident.report_count == 1 and incident.scenario == "fire"
    remaining = files(media_dir)
    assert len(remaining) == 1 and remaining[0].read_bytes() == b"\xff\xd8mine"

    async with steps.tx() as session:
        assert (
            await forget_citizen(
                session=session, telegram_user_id=4001, releaser=releaser, now=START
            )
            is None
        )


class Interrupted(Exception):
    """Stands for whatever fails after the erasure, in the same transaction."""


async def _media_rows(steps: Steps) -> list[ReportMedia]:
    async with steps.tx() as session:
        return list((await session.exec(select(ReportMedia).order_by(col(ReportMedia.id)))).all())


async def test_forget_drops_the_record_of_command_messages(steps: Steps, media_dir: Path) -> None:
    await steps.send(4011, text="가로등이 넘어졌어요")
    async with steps.tx() as session:
        citizen = await find_citizen(session=session, telegram_user_id=4011)
        assert citizen is not None and citizen.id is not None
        await remember_command_message(
            session=session, citizen_id=citizen.id, message_id=77, now=START
        )
    releaser = FileReleaser(session_factory=steps.session_factory, media_dir=media_dir)
    async with steps.tx() as session:
        await forget_citizen(session=session, telegram_user_id=4011, releaser=releaser, now=START)
    await releaser.wait()
    async with steps.tx() as session:
        assert (await session.exec(select(CommandMessage))).all() == []


async def test_forget_rolled_back_leaves_every_row_and_file(steps: Steps, media_dir: Path) -> None:
    """Files go only after the erasure commits: a rollback leaves rows naming files that exist."""
    await steps.send(4201, text="물이 차요")
    await steps.send(4201, kind="photo", file=jpeg(b"kept"), now=START + timedelta(seconds=2))
    releaser = FileReleaser(session_factory=steps.session_factory, media_dir=media_dir)
    with pytest.raises(Interrupted):
        async with steps.tx() as session:
            summary = await forget_citizen(
                session=session, telegram_user_id=4201, releaser=releaser, now=START
            )
            assert summary is not None and summary.media == 1
            await session.flush()
            raise Interrupted  # a later statement fails, or the database goes away
    await releaser.wait()

    (media,) = await _media_rows(steps)
    assert media.status == MediaStatus.STORED and media.path is not None
    assert (media_dir / media.path).read_bytes() == b"\xff\xd8kept"
    async with steps.tx() as session:
        citizen = (await session.exec(select(Citizen))).one()
        assert citizen.telegram_user_id == 4201 and citizen.forgotten_at is None


async def test_forget_whose_file_deletion_fails_stays_done_and_the_purge_finishes(
    steps: Steps,
    session_factory: Any,
    media_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A file that cannot be deleted is logged; the erasure stays; the next purge deletes it."""
    await steps.send(4202, text="연기가 나요")
    await steps.send(4202, kind="photo", file=jpeg(b"stuck"), now=START + timedelta(seconds=2))
    refuse_deleting_under(monkeypatch, media_dir)
    releaser = FileReleaser(session_factory=steps.session_factory, media_dir=media_dir)
    async with steps.tx() as session:
        await forget_citizen(session=session, telegram_user_id=4202, releaser=releaser, now=START)
    await releaser.wait()

    assert "could not delete 1 erased media files" in caplog.text
    async with steps.tx() as session:
        citizen = (await session.exec(select(Citizen))).one()
        assert citizen.telegram_user_id is None and citizen.forgotten_at is not None
        report = (await session.exec(select(Report))).one()
        assert report.text is None and report.latitude is None
    (media,) = await _media_rows(steps)
    assert media.status == MediaStatus.PURGED and media.file_id is None
    assert media.path is not None and (media_dir / media.path).exists()  # to be released

    monkeypatch.undo()
    summary = await purge_expired(
        session_factory=session_factory, now=START, retention_days=30, media_dir=media_dir
    )
    assert summary.files == 1 and files(media_dir) == []
    (media,) = await _media_rows(steps)
    assert media.path is None and media.sha256 is None


class GatedReleaser(FileReleaser):
    """A releaser whose releases wait for the test to let them run."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = asyncio.Event()

    async def release(self, files: dict[str, str]) -> int:
        await self.gate.wait()
        return await super().release(files)


async def test_forget_keeps_a_file_another_report_takes_in_meanwhile(
    steps: Steps, media_dir: Path
) -> None:
    """The same photo taken in while /forget releases it: the file stays for the new report."""
    await steps.send(4203, text="불이 났어요")
    await steps.send(4203, kind="photo", file=jpeg(b"same"), now=START + timedelta(seconds=2))
    releaser = GatedReleaser(session_factory=steps.session_factory, media_dir=media_dir)
    async with steps.tx() as session:
        await forget_citizen(session=session, telegram_user_id=4203, releaser=releaser, now=START)
    assert releaser.busy()  # committed: the release waits for the gate

    stored = asyncio.Event()

    async def intake() -> None:
        """Another citizen sends the same photo; the file is stored under its lock."""
        message = IncomingMessage(
            user_id=4204,
            chat_id=4204,
            message_id=steps.next_id(),
            lang="ko",
            kind="photo",
            file=jpeg(b"same"),
        )
        async with steps.tx() as session:
            await receive_message(session=session, message=message, config=steps.config, now=START)
            stored.set()
            await asyncio.sleep(STILL_WAITING)  # the release runs meanwhile

    taking_in = asyncio.create_task(intake())
    await asyncio.wait_for(stored.wait(), PATIENCE)
    releaser.gate.set()
    await asyncio.wait_for(releaser.wait(), PATIENCE)
    await taking_in

    old, new = await _media_rows(steps)
    assert old.status == MediaStatus.PURGED and old.path is None
    assert new.status == MediaStatus.STORED and new.path is not None
    assert (media_dir / new.path).read_bytes() == b"\xff\xd8same"


async def _age_outbox(steps: Steps, until_id: int, created_at: datetime) -> None:
    """Date the outbox rows up to ``until_id`` (the domain leaves created_at to the clock)."""
    async with steps.tx() as session:
        await session.exec(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(col(OutboxMessage.id) <= until_id)
            .values(created_at=created_at, status=OutboxStatus.SENT.value)
        )


async def _last_outbox_id(steps: Steps) -> int:
    async with steps.tx() as session:
        return int((await session.exec(select(func.max(OutboxMessage.id)))).one() or 0)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_purge_expired_keeps_the_consent_promise(
    steps: Steps, session_factory: Any, media_dir: Path
) -> None:
    """Expired reports lose words, places, files, citizen links and outbox copies; recent stay."""
    await steps.send(4101, text="연기가 나요 3층 홍길동")
    await steps.send(4101, kind="photo", file=jpeg(b"old"), now=START + timedelta(seconds=2))
    await steps.send(4101, kind="location", place=PLACE, now=START + timedelta(seconds=3))
    await steps.send(
        4101, text="3층에 사람 있대요", forwarded_from="김철수", now=START + timedelta(seconds=3)
    )
    # The same picture in a recent report: the file must stay.
    await steps.send(4101, kind="photo", file=jpeg(b"shared"), now=START + timedelta(seconds=4))
    old_rows = await _last_outbox_id(steps)
    await _age_outbox(steps, old_rows, START)
    later = START + timedelta(days=20)
    await steps.send(4102, text="물이 차요", now=later)
    await steps.send(4102, kind="photo", file=jpeg(b"new"), now=later + timedelta(seconds=1))
    await steps.send(4102, kind="photo", file=jpeg(b"shared"), now=later + timedelta(seconds=2))
    await steps.send(4102, kind="location", place=PLACE, now=later + timedelta(seconds=3))
    async with steps.tx() as session:
        await session.exec(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(col(OutboxMessage.id) > old_rows)
            .values(created_at=later)
        )
        session.add(FailedUpdate(update_id=1, payload={"t": "연기"}, error="x", created_at=START))
        session.add(FailedUpdate(update_id=2, payload={"t": "물"}, error="x", created_at=later))
    now = START + timedelta(days=31)

    async def snapshot() -> str:
        async with steps.tx() as session:
            return _dump(
                [
                    [r.model_dump(mode="json") for r in (await session.exec(select(t))).all()]
                    for t in (Report, ReportMedia, ReportMessage, Incident, OutboxMessage)
                ]
            ) + str(sorted(files(media_dir)))

    before = await snapshot()
    dry = await purge_expired(
        session_factory=session_factory,
        now=now,
        retention_days=30,
        media_dir=media_dir,
        dry_run=True,
    )
    assert await snapshot() == before
    summary = await purge_expired(
        session_factory=session_factory,
        now=now,
        retention_days=30,
        media_dir=media_dir,
        batch_size=1,
    )
    assert summary == dry
    assert (summary.reports, summary.files, summary.failed_updates) == (1, 1, 1)
    assert summary.incident_places == 1

    async with steps.tx() as session:
        old, new = (await session.exec(select(Report).order_by(col(Report.id)))).all()
        assert old.text is None and old.citizen_id is None and old.latitude is None
        assert old.location_label is None and old.accuracy is None
        assert old.district_name == "중구" and old.scenario == "fire" and old.reference
        assert new.text == "물이 차요" and new.citizen_id is not None
        assert new.latitude == PLACE.latitude
        messages = (await session.exec(select(ReportMessage))).all()
        assert all(m.text is None and m.chat_id is None for m in messages if m.report_id == old.id)
        assert [m.forwarded_from for m in messages if m.report_id == old.id] == [None] * 5
        assert any(m.text == "물이 차요" for m in messages)
        media = (await session.exec(select(ReportMedia))).all()
        assert all(
            m.status == MediaStatus.PURGED and m.path is None and m.file_id is None
            for m in media
            if m.report_id == old.id
        )
        incidents = (await session.exec(select(Incident).order_by(col(Incident.id)))).all()
        old_incident = next(i for i in incidents if i.id == old.incident_id)
        assert old_incident.latitude is None and old_incident.district_name == "중구"
        assert all(i.latitude is not None for i in incidents if i.id == new.incident_id)
        outbox = _dump(
            [(row.payload, row.result) for row in (await session.exec(select(OutboxMessage))).all()]
        )
        assert "연기" not in outbox and "홍길동" not in outbox and "37.566" not in outbox
        recent = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.id > old_rows))
        ).all()
        assert recent and all(row.payload for row in recent)
        failed = (await session.exec(select(FailedUpdate))).all()
        assert [f.update_id for f in failed] == [2]
    assert sorted(p.read_bytes() for p in files(media_dir)) == [b"\xff\xd8new", b"\xff\xd8shared"]
    again = await purge_expired(
        session_factory=session_factory, now=now, retention_days=30, media_dir=media_dir
    )
    assert again == PurgeSummary(cutoff=again.cutoff)


async def _citizens(steps: Steps) -> dict[int | None, Citizen]:
    """Every citizen by Telegram user id (the anonymised ones under None, the last of them)."""
    async with steps.tx() as session:
        rows = (await session.exec(select(Citizen).order_by(col(Citizen.id)))).all()
        return {row.telegram_user_id: row for row in rows}


async def test_purge_anonymises_citizens_quiet_for_longer_than_the_retention_period(
    steps: Steps, session_factory: Any, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quiet citizens lose their Telegram id, language and consent; active or held ones stay."""
    from situation import citizens, privacy

    await steps.send(4401, text="도로에 물이 차요")  # reported once, long ago
    async with steps.tx() as session:
        await citizens.start(  # only said hello
            session=session, user_id=4402, chat_id=4402, lang="en", now=START, retention_days=30
        )
        await citizens.set_language(
            session=session, user_id=4402, chat_id=4402, lang="en", now=START
        )
        await citizens.record_consent(
            session=session, user_id=4402, chat_id=4402, lang="en", accepted=True, now=START
        )
    await steps.send(4403, text="가로수가 쓰러졌어요")  # reported long ago, came back lately
    async with steps.tx() as session:
        await citizens.list_reports(
            session=session, user_id=4403, chat_id=4403, lang="ko", now=START + timedelta(days=25)
        )
    # A report within the retention period holds its citizen, however quiet they seem.
    await steps.send(4404, text="맨홀 뚜껑이 열려 있어요", now=START + timedelta(days=20))
    async with steps.tx() as session:
        await session.exec(
            update(Citizen)  # type: ignore[call-overload]
            .where(col(Citizen.telegram_user_id) == 4404)
            .values(last_seen_at=START)
        )
    # An expired report loses its link to the citizen first, even while its incident is open.
    await steps.send(4405, text="신호등이 고장 났어요")
    async with steps.tx() as session:  # two of them blocked the bot at some point
        for chat_id in (4402, 4403):
            await mark_unreachable(session=session, chat_id=chat_id, reason="blocked", now=START)
    now = START + timedelta(days=31)

    async def snapshot() -> str:
        async with steps.tx() as session:
            return _dump(
                [
                    [r.model_dump(mode="json") for r in (await session.exec(select(t))).all()]
                    for t in (Citizen, Report)
                ]
            )

    before = await snapshot()
    dry = await purge_expired(
        session_factory=session_factory,
        now=now,
        retention_days=30,
        media_dir=media_dir,
        dry_run=True,
    )
    assert await snapshot() == before
    monkeypatch.setattr(privacy, "BATCH_ROWS", 2)  # several batches
    summary = await purge_expired(
        session_factory=session_factory, now=now, retention_days=30, media_dir=media_dir
    )
    assert summary == dry
    assert summary.citizens == 3 and summary.reports == 3

    known = await _citizens(steps)
    assert set(known) == {4403, 4404, None}
    async with steps.tx() as session:
        rows = (await session.exec(select(Citizen).order_by(col(Citizen.id)))).all()
    gone = [row for row in rows if row.telegram_user_id is None]
    assert len(gone) == 3
    assert all(
        row.language is None
        and not row.language_chosen
        and row.consent_at is None
        and row.last_seen_at is None
        and row.forgotten_at == now
        for row in gone
    )
    assert known[4403].last_seen_at == START + timedelta(days=25)
    async with steps.tx() as session:  # the chat state is keyed by the Telegram id: it goes too
        assert await get_chat_state(session=session, chat_id=4402) is None
        assert await get_chat_state(session=session, chat_id=4403) is not None

    # Back after the purge: a new citizen, with nothing of the old one.
    await steps.send(4401, text="또 물이 차요", now=now)
    known = await _citizens(steps)
    assert known[4401].created_at == now and known[4401].forgotten_at is None
    again = await purge_expired(
        session_factory=session_factory, now=now, retention_days=30, media_dir=media_dir
    )
    assert again == PurgeSummary(cutoff=again.cutoff)


@pytest.fixture
async def pg_factory(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a migrated PostgreSQL schema, whichever database the suite uses.

    The interleavings below cannot happen on SQLite: there a write transaction holds the
    database from its first statement.
    """
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _known_citizen(factory: async_sessionmaker[AsyncSession], user_id: int) -> Citizen:
    async with factory() as session, session.begin():
        citizen, _ = await get_or_create_citizen(
            session=session, telegram_user_id=user_id, now=START
        )
        return citizen


@pytest.mark.postgres
async def test_a_citizen_writing_while_the_purge_runs_stays_known(
    pg_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The purge waits for the row a citizen's update is writing, then finds them active."""
    await _known_citizen(pg_factory, 4501)
    now = START + timedelta(days=31)
    async with pg_factory() as session:
        await session.begin()
        _, created = await get_or_create_citizen(session=session, telegram_user_id=4501, now=now)
        assert not created
        purge = asyncio.create_task(
            purge_expired(
                session_factory=pg_factory, now=now, retention_days=30, media_dir=tmp_path
            )
        )
        await asyncio.sleep(STILL_WAITING)
        assert not purge.done()  # waits for the citizen's row
        await session.commit()
    summary = await asyncio.wait_for(purge, PATIENCE)
    assert summary.citizens == 0
    async with pg_factory() as session:
        citizen = (await session.exec(select(Citizen))).one()
        assert citizen.telegram_user_id == 4501 and citizen.last_seen_at == now


@pytest.mark.postgres
async def test_a_citizen_anonymised_while_their_update_runs_starts_afresh(
    pg_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """An update that read the citizen before the purge committed goes on with a new citizen."""
    await _known_citizen(pg_factory, 4502)
    now = START + timedelta(days=31)
    async with pg_factory() as session:
        await session.begin()
        read = await find_citizen(session=session, telegram_user_id=4502)  # as the claim does
        assert read is not None
        summary = await asyncio.wait_for(
            purge_expired(
                session_factory=pg_factory, now=now, retention_days=30, media_dir=tmp_path
            ),
            PATIENCE,
        )
        assert summary.citizens == 1
        citizen, created = await get_or_create_citizen(
            session=session, telegram_user_id=4502, now=now
        )
        assert created and citizen.id != read.id and read.telegram_user_id is None
        await session.commit()
    async with pg_factory() as session:
        rows = (await session.exec(select(Citizen).order_by(col(Citizen.id)))).all()
        assert [(row.telegram_user_id, row.last_seen_at) for row in rows] == [
            (None, None),
            (4502, now),
        ]


async def test_purge_drops_the_command_messages_of_the_citizens_it_anonymises(
    steps: Steps, session_factory: Any, media_dir: Path
) -> None:
    """As on /forget: an anonymised citizen's command messages go with their Telegram id."""
    await steps.send(4501, text="가로등이 넘어졌어요")  # quiet since, long enough to go
    await steps.send(4502, text="맨홀 뚜껑이 열려 있어요", now=START + timedelta(days=20))
    async with steps.tx() as session:
        for user_id in (4501, 4502):
            citizen = await find_citizen(session=session, telegram_user_id=user_id)
            assert citizen is not None and citizen.id is not None
            await remember_command_message(
                session=session, citizen_id=citizen.id, message_id=77, now=START
            )
    await purge_expired(
        session_factory=session_factory,
        now=START + timedelta(days=31),
        retention_days=30,
        media_dir=media_dir,
    )
    async with steps.tx() as session:
        kept = await find_citizen(session=session, telegram_user_id=4502)
        assert kept is not None
        rows = (await session.exec(select(CommandMessage))).all()
        assert await find_citizen(session=session, telegram_user_id=4501) is None
    assert [row.citizen_id for row in rows] == [kept.id]
