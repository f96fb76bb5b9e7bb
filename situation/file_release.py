"""Delete the files of erased media once the erasure has committed, never before.

Usage::

    releaser = FileReleaser(session_factory=factory, media_dir=Path("var/media"))
    releaser.release_after_commit(session, {path: sha256})  # media rows just marked purged
    # ... the session commits: the release starts in a task and a transaction of its own
    await releaser.wait()  # every release started so far has ended

A transaction that rolls back releases nothing: its rows still name their files, and the files
are still there. The purged rows keep their file's hash and path until the file is released
(see ``storage.retention.release_files``, which also keeps a file another report uses, even one
taken in at this moment), so a release that fails, or never runs because the process stopped,
is finished by the next retention purge. A failure is logged; the erasure stays committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.commit_hooks import CommittedTasks
from storage.retention import release_files

log = logging.getLogger(__name__)


class FileReleaser:
    """Release stored files after the transaction that purged their media rows commits."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[Any],
        media_dir: Path,
        turn: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        """``turn``: entered around each release's transaction (the bot's SQLite write turn)."""
        self._session_factory = session_factory
        self._media_dir = media_dir
        self._turn = turn or contextlib.nullcontext
        self._committed = CommittedTasks()

    def release_after_commit(self, session: AsyncSession, files: dict[str, str]) -> None:
        """Release ``files`` (``{path: sha256}``) once ``session``'s transaction commits."""
        if not files:
            return
        wanted = dict(files)
        self._committed.start_after_commit(
            session, "release-erased-files", lambda: self.release(wanted)
        )

    async def release(self, files: dict[str, str]) -> int:
        """Delete those of ``files`` no stored media row uses; log a failure and return 0."""
        try:
            async with self._turn(), self._session_factory() as session, session.begin():
                return await release_files(session=session, media_dir=self._media_dir, files=files)
        except Exception:
            log.exception(
                "could not delete %d erased media files; the next retention purge deletes them",
                len(files),
            )
            return 0

    def busy(self) -> bool:
        """Whether a release is waiting to start or running."""
        return self._committed.busy()

    async def wait(self) -> None:
        """Wait until every release started so far has ended."""
        await self._committed.wait()
