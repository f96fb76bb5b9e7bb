"""/forget erases a citizen's personal data; the retention purge removes old media and places."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from situation.intake import IncomingFile, IncomingPlace
from situation.privacy import forget_citizen, purge_expired
from storage.models.citizens import Citizen
from storage.models.incidents import Incident
from storage.models.reports import MediaStatus, Report, ReportMedia, ReportMessage
from tests.situation.conftest import START, Steps

PLACE = IncomingPlace(latitude=37.5663, longitude=126.9779)


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
    assert len(files(media_dir)) == 2

    async with steps.tx() as session:
        summary = await forget_citizen(
            session=session,
            telegram_user_id=4001,
            media_dir=media_dir,
            now=START + timedelta(hours=1),
        )
    assert summary is not None and summary.reports == 1 and summary.media == 2

    async with steps.tx() as session:
        citizens = (await session.exec(select(Citizen).order_by(col(Citizen.id)))).all()
        assert citizens[0].telegram_user_id is None and citizens[0].forgotten_at is not None
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
        incident = (await session.exec(select(Incident))).one()
        assert incident.report_count == 1 and incident.scenario == "fire"
    remaining = files(media_dir)
    assert len(remaining) == 1 and remaining[0].read_bytes() == b"\xff\xd8mine"

    async with steps.tx() as session:
        assert (
            await forget_citizen(
                session=session, telegram_user_id=4001, media_dir=media_dir, now=START
            )
            is None
        )


async def test_purge_expired_removes_old_media_and_locations_only(
    steps: Steps, media_dir: Path
) -> None:
    await steps.send(4101, kind="photo", file=jpeg(b"old"))
    await steps.send(4101, kind="location", place=PLACE, now=START + timedelta(seconds=3))
    later = START + timedelta(days=20)
    await steps.send(4102, kind="photo", file=jpeg(b"new"), now=later)
    await steps.send(4102, kind="location", place=PLACE, now=later + timedelta(seconds=3))

    async with steps.tx() as session:
        purged = await purge_expired(
            session=session, now=START + timedelta(days=31), retention_days=30, media_dir=media_dir
        )
    assert purged == 1
    async with steps.tx() as session:
        old, new = (await session.exec(select(Report).order_by(col(Report.id)))).all()
    assert (
        old.latitude is None and old.location_purged_at is not None and old.district_name == "중구"
    )
    assert new.latitude == PLACE.latitude
    assert [p.read_bytes() for p in files(media_dir)] == [b"\xff\xd8new"]
