"""End-to-end harness: the real bot, polling the sandbox over HTTP, on a migrated database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.demo import DemoWorld, Person, build_demo_world, seed_demo
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from sandbox.client import SandboxClient
from situation.clock import Clock


@dataclass
class E2E:
    """What an end-to-end test works with."""

    runtime: Runtime
    client: SandboxClient
    world: DemoWorld
    settings: Settings
    clock: Clock
    sandbox_url: str
    polling: asyncio.Task[None] | None = None

    @property
    def token(self) -> str:
        """The bot token in the sandbox."""
        return self.world.token

    async def citizen(self, name: str = "시민", language: str = "ko") -> Person:
        """Create a citizen who has started the bot."""
        user = await self.client.create_user(first_name=name, language_code=language)
        person = Person(id=int(user["id"]), name=name, role="citizen", language=language)
        return person

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - polls to a deadline
        """Wait until every update was handled and the outbox is empty."""
        await wait_until_idle(self, timeout=timeout)


async def wait_until_idle(e2e: E2E, *, timeout: float) -> None:  # noqa: ASYNC109
    """Poll the sandbox and the outbox until nothing is in flight."""
    from storage.outbox import pending_count

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_rounds = 0
    while loop.time() < deadline:
        async with e2e.runtime.session_factory() as session:
            pending = await pending_count(session=session)
        undelivered = await e2e.client.pending_updates(e2e.token)
        busy = pending or undelivered or e2e.runtime.busy()
        quiet_rounds = 0 if busy else quiet_rounds + 1
        if quiet_rounds >= 3:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not settle in time")


def e2e_settings(world: DemoWorld, sandbox_url: str, database_url: str, media: Path) -> Settings:
    """Settings of a bot that talks to the sandbox."""
    settings = Settings(database_url=database_url, media_dir=media)
    settings.telegram.api_base = sandbox_url
    settings.telegram.token = SecretStr(world.token)
    settings.staff_chat_id = world.staff_chat_id
    settings.experts_hub_id = world.experts_hub_id
    # The sandbox's own limits are off here; the sender's limits are tested on their own
    # (tests/bot/test_sender.py), so they must not slow the conversation tests down.
    settings.sender.global_per_second = 1000
    settings.sender.private_per_second = 100
    settings.sender.private_burst = 100
    settings.sender.group_per_minute = 6000
    settings.sender.group_burst = 100
    return settings


@pytest.fixture
async def app(
    request: pytest.FixtureRequest,
    sandbox: Any,
    sandbox_client: SandboxClient,
    session_factory: Any,
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[E2E]:
    """Run the real bot against the sandbox for one test.

    ``@pytest.mark.bot_settings.with_args(change)`` lets a test change the settings
    before the bot is built.
    """
    world = await build_demo_world(sandbox_client)
    settings = e2e_settings(world, sandbox.url, database_url, tmp_path / "media")
    for marker in request.node.iter_markers("bot_settings"):
        marker.args[0](settings)
    clock = Clock()
    runtime = await build_runtime(settings, clock=clock, worker_id="e2e")
    await seed_demo(runtime.session_factory, world)
    polling = asyncio.create_task(runtime.run_polling(handle_signals=False))
    e2e = E2E(runtime, sandbox_client, world, settings, clock, sandbox.url, polling)
    try:
        await asyncio.wait_for(runtime.wait_started(), timeout=15)
        yield e2e
    finally:
        await runtime.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, timeout=10)
        await runtime.close()
