"""A release of erased files runs in its own transaction, inside the turn it was given."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from situation.file_release import FileReleaser
from tests.situation.conftest import Steps


async def test_a_release_takes_the_write_turn_it_was_given(steps: Steps, tmp_path: Path) -> None:
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def turn() -> AsyncIterator[None]:
        entered.append("in")
        yield
        entered.append("out")

    releaser = FileReleaser(session_factory=steps.session_factory, media_dir=tmp_path, turn=turn)
    stored = tmp_path / "ab" / "file.jpg"
    stored.parent.mkdir()
    stored.write_bytes(b"x")

    assert await releaser.release({"ab/file.jpg": "ab" * 32}) == 1
    assert entered == ["in", "out"] and not stored.exists()
