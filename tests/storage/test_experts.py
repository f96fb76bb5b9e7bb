"""The expert repository stores experts and finds the invitable ones by field."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.experts import (
    get_expert,
    get_expert_by_user,
    invitable_experts,
    list_experts,
    save_expert,
)
from storage.models.experts import Expert


async def test_invitable_needs_verified_available_and_a_matching_field(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Only verified, available, active experts with one of the fields are invitable."""
    async with session_factory() as session, session.begin():
        for user_id, fields, verified, available, active in (
            (1, ["fire"], True, True, True),
            (2, ["fire", "structural"], False, True, True),
            (3, ["structural"], True, False, True),
            (4, ["marine"], True, True, True),
            (5, ["fire"], True, True, False),
            (6, ["structural", "marine"], True, True, True),
        ):
            await save_expert(
                session=session,
                expert=Expert(
                    telegram_user_id=user_id,
                    name=f"e{user_id}",
                    fields=fields,
                    verified=verified,
                    available=available,
                    active=active,
                ),
            )
    async with session_factory() as session:
        found = await invitable_experts(session=session, fields={"fire", "structural"})
        assert [expert.telegram_user_id for expert in found] == [1, 6]
        pending = await list_experts(session=session, verified=False)
        assert [expert.telegram_user_id for expert in pending] == [2]
        by_user = await get_expert_by_user(session=session, telegram_user_id=6)
        assert by_user is not None and by_user.fields == ["structural", "marine"]
        assert by_user.id is not None
        assert (await get_expert(session=session, expert_id=by_user.id)) == by_user
        assert await get_expert_by_user(session=session, telegram_user_id=99) is None
