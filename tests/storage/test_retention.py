"""The purge's file deletion and intake's store of the same file, interleaved."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.media import store_bytes, store_locked
from storage.models.reports import MediaStatus, Report, ReportMedia
from storage.reports import add_media, create_report
from storage.retention import release_files

DATA = b"\xff\xd8 the same photo"
STILL_WAITING = 0.5  # how long a blocked transaction is watched before the other commits
PATIENCE = 20.0


async def _purged_file(session_factory: async_sessionmaker[Any], media_dir: Path) -> str:
    """A file whose only media row was just purged (its path kept until the file is released)."""
    stored = await store_bytes(media_dir=media_dir, data=DATA, suffix=".jpg")
    async with session_factory() as session, session.begin():
        report = await create_report(session=session, report=Report())
        assert report.id is not None
        await add_media(
            session=session,
            media=ReportMedia(
                report_id=report.id,
                kind="photo",
                sha256=stored.sha256,
                path=stored.path,
                status=MediaStatus.PURGED,
            ),
        )
    return stored.path


async def _intake(
    session_factory: async_sessionmaker[Any], media_dir: Path, stored: asyncio.Event
) -> None:
    """A new report storing the same bytes, committed once ``stored`` was set and awaited."""
    async with session_factory() as session, session.begin():
        report = await create_report(session=session, report=Report())
        assert report.id is not None
        file = await store_locked(session=session, media_dir=media_dir, data=DATA, suffix=".jpg")
        await add_media(
            session=session,
            media=ReportMedia(
                report_id=report.id, kind="photo", sha256=file.sha256, path=file.path
            ),
        )
        stored.set()
        await asyncio.sleep(STILL_WAITING)  # the purge runs meanwhile


async def test_intake_storing_first_keeps_the_file(
    session_factory: async_sessionmaker[Any], tmp_path: Path
) -> None:
    """Intake holds the file's lock until its row commits: the purge then sees a user."""
    path = await _purged_file(session_factory, tmp_path)
    stored = asyncio.Event()
    intake = asyncio.create_task(_intake(session_factory, tmp_path, stored))
    await asyncio.wait_for(stored.wait(), PATIENCE)

    async def purge() -> int:
        async with session_factory() as session, session.begin():
            return await release_files(
                session=session, media_dir=tmp_path, files={path: path.split("/")[1][:64]}
            )

    released = await asyncio.wait_for(purge(), PATIENCE)
    await intake
    assert released == 0
    assert (tmp_path / path).read_bytes() == DATA


async def test_purge_deleting_first_lets_intake_write_the_file_again(
    session_factory: async_sessionmaker[Any], tmp_path: Path
) -> None:
    """The purge deletes under the lock; intake, waiting for it, finds no file and writes it."""
    path = await _purged_file(session_factory, tmp_path)
    sha256 = path.split("/")[1][:64]
    async with session_factory() as session:
        await session.begin()
        assert await release_files(session=session, media_dir=tmp_path, files={path: sha256}) == 1
        assert not (tmp_path / path).exists()
        stored = asyncio.Event()
        intake = asyncio.create_task(_intake(session_factory, tmp_path, stored))
        await asyncio.sleep(STILL_WAITING)
        assert not stored.is_set()  # waits for the purge's transaction
        await session.commit()
    await asyncio.wait_for(intake, PATIENCE)
    assert (tmp_path / path).read_bytes() == DATA
