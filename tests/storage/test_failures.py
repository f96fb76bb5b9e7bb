"""Failed updates are kept and counted until resolved."""

from __future__ import annotations

from typing import Any

from situation.failures import FailureRecorder
from storage.failures import count_unresolved


async def test_a_failed_update_is_kept_with_its_error(session_factory: Any) -> None:
    recorder = FailureRecorder(session_factory)
    await recorder.record(
        update_id=42, payload={"update_id": 42, "message": {"text": "불이야"}}, error="Boom"
    )
    async with session_factory() as session:
        assert await count_unresolved(session=session) == 1
