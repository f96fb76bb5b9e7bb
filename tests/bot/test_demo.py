"""The demo world: whoever opens the console can tell who plays which part."""

from __future__ import annotations

from bot.demo import build_demo_world
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer


async def test_every_person_says_their_part_in_both_languages(
    sandbox: SandboxServer, sandbox_client: SandboxClient
) -> None:
    world = await build_demo_world(sandbox_client)
    users = {user["id"]: user for user in await sandbox_client.users()}
    bios = {person.name: users[person.id]["bio"] for person in world.citizens}
    assert bios["김민지"] == "시민 · citizen"
    lead = world.person("최도윤")
    assert users[lead.id]["bio"] == "상황실 팀장 · situation room lead"
    expert = world.person("한지훈")
    assert users[expert.id]["bio"] == "전문가 · expert: 화재 · Fire"
    for person in (*world.citizens, *world.staff, *world.experts):
        assert users[person.id]["bio"], person.name
