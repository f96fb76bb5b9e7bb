"""Who may do what in the situation room: staff, lead and admin.

Usage::

    role = await role_of(session=session, user_id=user.id)    # "admin" | "lead" | "staff" | None
    allowed(role, "merge")                                    # True for any staff member
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from situation.outgoing import Outgoing
from situation.texts import render
from storage.models.base import utcnow
from storage.models.staff import StaffMember, StaffRole
from storage.staff import deactivate_staff, get_staff, list_staff, upsert_staff

RANK = {StaffRole.STAFF: 1, StaffRole.LEAD: 2, StaffRole.ADMIN: 3}

# The weakest role an action needs; anything not listed needs "staff".
REQUIRED = {
    "staff_manage": StaffRole.ADMIN,
    "duty_edit": StaffRole.LEAD,
}


def at_least(role: str | None, needed: str) -> bool:
    """Whether ``role`` is ``needed`` or stronger (None is no role at all)."""
    return role is not None and RANK.get(role, 0) >= RANK[needed]


def allowed(role: str | None, action: str) -> bool:
    """Whether someone with ``role`` may perform ``action``."""
    return at_least(role, REQUIRED.get(action, StaffRole.STAFF))


def refusal(role: str | None, action: str, lang: str) -> str | None:
    """Return why someone with ``role`` may not perform ``action``, or None when they may.

    Staff whose role is too weak are told which role it takes, not that they are no staff.
    """
    if allowed(role, action):
        return None
    needed = REQUIRED.get(action, StaffRole.STAFF)
    if role is None or needed == StaffRole.STAFF:
        return render(lang, "staff_answer", key="refused")
    return render(lang, "staff_answer", key="needs_role", value=needed)


async def role_of(*, session: AsyncSession, user_id: int) -> str | None:
    """Return the role of a Telegram user in the situation room, or None."""
    member = await get_staff(session=session, telegram_user_id=user_id)
    return member.role if member is not None else None


async def register(
    *,
    session: AsyncSession,
    user_id: int,
    name: str,
    role: str,
    now: datetime,
    team: str | None = None,
) -> StaffMember:
    """Register (or change) a staff member."""
    return await upsert_staff(
        session=session, telegram_user_id=user_id, name=name, role=role, team=team, now=now
    )


async def unregister(*, session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Remove a staff member's rights; False if they were not registered."""
    return await deactivate_staff(session=session, telegram_user_id=user_id, now=now)


async def roster_text(*, session: AsyncSession, lang: str) -> str:
    """Render the list of staff members."""
    members = [
        {"id": m.telegram_user_id, "name": m.name, "role": m.role, "team": m.team}
        for m in await list_staff(session=session)
    ]
    return render(lang, "staff_members", members=members)


async def seed_demo_staff(
    *, session: AsyncSession, world_staff: list[tuple[int, str, str]], now: datetime | None = None
) -> list[StaffMember]:
    """Register the demo world's staff (user id, name, role), in teams A and B alternately."""
    moment = now or utcnow()
    members = []
    for index, (user_id, name, role) in enumerate(world_staff):
        team = "A" if index % 2 == 0 else "B"
        members.append(
            await upsert_staff(
                session=session,
                telegram_user_id=user_id,
                name=name,
                role=role,
                team=team,
                now=moment,
            )
        )
    return members


async def greet_staff(*, session: AsyncSession, chat_id: int, role: str, lang: str) -> None:
    """Answer /start in a staff member's private chat: where the work is and its commands."""
    await Outgoing(session=session, chat_id=chat_id, lang=lang).message("staff_start", role=role)
