"""The staff registry: register, change, remove (rows stay for the audit trail), list."""

from __future__ import annotations

from typing import Any

import pytest

from storage.models.base import utcnow
from storage.staff import deactivate_staff, get_staff, list_staff, staff_names, upsert_staff


async def test_register_change_remove_and_list(session_factory: Any) -> None:
    now = utcnow()
    async with session_factory() as session, session.begin():
        await upsert_staff(
            session=session, telegram_user_id=1, name="가", role="staff", now=now, team="A"
        )
        await upsert_staff(
            session=session, telegram_user_id=2, name="나", role="lead", now=now, team="B"
        )
        changed = await upsert_staff(
            session=session, telegram_user_id=1, name="가나", role="admin", now=now
        )
        assert changed.team == "A" and changed.role == "admin"
        with pytest.raises(ValueError):
            await upsert_staff(session=session, telegram_user_id=3, name="다", role="boss", now=now)
    async with session_factory() as session, session.begin():
        assert [m.name for m in await list_staff(session=session)] == ["가나", "나"]
        assert [m.name for m in await list_staff(session=session, team="B")] == ["나"]
        assert await deactivate_staff(session=session, telegram_user_id=2, now=now)
        assert not await deactivate_staff(session=session, telegram_user_id=2, now=now)
    async with session_factory() as session, session.begin():
        assert await get_staff(session=session, telegram_user_id=2) is None
        kept = await get_staff(session=session, telegram_user_id=2, include_inactive=True)
        assert kept is not None and not kept.active
        assert await staff_names(session=session, user_ids=[1, 2]) == {1: "가나", 2: "나"}
        back = await upsert_staff(
            session=session, telegram_user_id=2, name="나", role="staff", now=now
        )
        assert back.active and back.id == kept.id
