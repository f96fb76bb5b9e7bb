"""The demo world in the sandbox: a staff supergroup with topics, an experts' hub and people.

The same world serves the offline demo (``jikimi sandbox``), the end-to-end tests and the
benchmarks, so what a person tries in the console is what the tests prove.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from community.registry import seed_demo_experts
from sandbox.client import SandboxClient
from situation.roles import seed_demo_staff
from situation.texts import render

DEMO_TOKEN = "7000000001:JIKIMI-sandbox-demo-token-000000000"
BOT_RIGHTS = {
    "can_manage_topics": True,
    "can_pin_messages": True,
    "can_delete_messages": True,
    "can_invite_users": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
}


@dataclass
class Person:
    """A sandbox user and the role they play in the demo."""

    id: int
    name: str
    role: str
    language: str
    field: str | None = None


@dataclass
class DemoWorld:
    """Ids of everything the demo created."""

    token: str
    bot_id: int
    staff_chat_id: int
    experts_hub_id: int
    citizens: list[Person] = field(default_factory=list)
    staff: list[Person] = field(default_factory=list)
    experts: list[Person] = field(default_factory=list)

    def person(self, name: str) -> Person:
        """Find a person of the demo by name."""
        for person in (*self.citizens, *self.staff, *self.experts):
            if person.name == name:
                return person
        raise KeyError(name)


_CITIZENS = [("김민지", "ko"), ("Sarah Miller", "en"), ("박준호", "ko")]
_STAFF = [("이서연", "admin"), ("최도윤", "lead"), ("정하은", "staff"), ("Daniel Cho", "staff")]
_EXPERTS = [("한지훈", "fire"), ("오수빈", "structural"), ("윤태양", "flood_hydrology")]


# The part each person plays, as their bio: the console shows it beside the name.
_PARTS = {
    "citizen": "시민 · citizen",
    "admin": "상황실 관리자 · situation room admin",
    "lead": "상황실 팀장 · situation room lead",
    "staff": "상황실 근무자 · on-duty staff",
}


def _expert_part(expert_field: str) -> str:
    ko, en = (render(lang, "expert_field", field=expert_field).strip() for lang in ("ko", "en"))
    return f"전문가 · expert: {ko} · {en}"


async def _user(client: SandboxClient, name: str, language: str, part: str) -> dict[str, Any]:
    return await client.create_user(first_name=name, language_code=language, bio=part)


async def build_demo_world(client: SandboxClient, *, token: str = DEMO_TOKEN) -> DemoWorld:
    """Create the bot, people, the staff supergroup and the experts' hub in the sandbox."""
    bot = await client.create_bot(token=token, username="jikimi_bot", first_name="지킴이 Jikimi")
    citizens = [
        Person(
            id=(await _user(client, name, lang, _PARTS["citizen"]))["id"],
            name=name,
            role="citizen",
            language=lang,
        )
        for name, lang in _CITIZENS
    ]
    staff = [
        Person(
            id=(await _user(client, name, "ko", _PARTS[role]))["id"],
            name=name,
            role=role,
            language="ko",
        )
        for name, role in _STAFF
    ]
    experts = [
        Person(
            id=(await _user(client, name, "ko", _expert_part(expert_field)))["id"],
            name=name,
            role="expert",
            language="ko",
            field=expert_field,
        )
        for name, expert_field in _EXPERTS
    ]
    staff_ids = [person.id for person in staff]
    staff_group = await client.create_supergroup(
        title="재난상황실 Situation room",
        is_forum=True,
        bot_token=token,
        bot_rights=BOT_RIGHTS,
        members=staff_ids,
        admins=[person.id for person in staff if person.role in ("admin", "lead")],
    )
    hub = await client.create_supergroup(
        title="재난전문가 허브 Experts' hub",
        is_forum=True,
        bot_token=token,
        bot_rights=BOT_RIGHTS,
        members=staff_ids,
        admins=[person.id for person in staff if person.role in ("admin", "lead")],
    )
    for person in (*staff, *experts):
        await client.start_bot(person.id, token)
    return DemoWorld(
        token=token,
        bot_id=int(bot["id"]),
        staff_chat_id=int(staff_group["id"]),
        experts_hub_id=int(hub["id"]),
        citizens=citizens,
        staff=staff,
        experts=experts,
    )


async def seed_demo(session_factory: async_sessionmaker[AsyncSession], world: DemoWorld) -> None:
    """Register the demo world's staff (with roles) and verified experts in the database."""
    async with session_factory() as session, session.begin():
        await seed_demo_staff(
            session=session,
            world_staff=[(person.id, person.name, person.role) for person in world.staff],
        )
        await seed_demo_experts(session=session, experts=world.experts)
