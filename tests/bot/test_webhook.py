"""Webhook mode: setWebhook, the secret token, probes and metrics, through the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.types import TelegramObject
from aiohttp import web
from sqlmodel import func, select

from bot.demo import DemoWorld, build_demo_world
from bot.health import add_health_routes
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.webhook import SECRET_HEADER, serve_webhook, webhook_secret
from sandbox.client import SandboxClient
from sandbox.images import tiny_png
from sandbox.server import SandboxServer
from storage.models.failures import FailedUpdate
from storage.models.outbox import OutboxMessage
from storage.models.reports import MediaStatus, ReportMedia
from storage.models.updates import ProcessedUpdate
from tests.fixtures.updates import poll_message


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hooked:
    """A worker serving the webhook of the demo bot in the sandbox."""

    runtime: Runtime
    sandbox: SandboxServer
    client: SandboxClient
    world: DemoWorld
    base: str
    url: str
    http: aiohttp.ClientSession
    stop: asyncio.Event
    serving: asyncio.Task[None]

    async def count(self, model: Any) -> int:
        """Rows of a table."""
        async with self.runtime.session_factory() as session:
            return int((await session.exec(select(func.count()).select_from(model))).one())

    async def delivered(self, limit: float = 10.0) -> None:
        """Wait until the sandbox delivered every pending update to the webhook."""
        async with asyncio.timeout(limit):
            while True:
                info = await self.runtime.bot.get_webhook_info()
                if not info.pending_update_count:
                    return
                await asyncio.sleep(0.05)


async def wait_http(http: aiohttp.ClientSession, url: str, limit: float = 10.0) -> None:
    """Wait until ``url`` answers at all."""
    async with asyncio.timeout(limit):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    await response.read()
                    return
            await asyncio.sleep(0.05)


@pytest.fixture
async def hooked(
    sandbox: SandboxServer, sandbox_client: SandboxClient, database_url: str, tmp_path: Path
) -> AsyncIterator[Hooked]:
    """Run ``serve_webhook`` for the demo bot on a free port."""
    world = await build_demo_world(sandbox_client)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = Settings(database_url=database_url, media_dir=tmp_path / "media")
    settings.telegram.api_base = sandbox.url
    settings.telegram.token = settings.telegram.token.__class__(world.token)
    settings.telegram.webhook_url = url
    settings.telegram.webhook_port = port
    settings.staff_chat_id = world.staff_chat_id
    settings.experts_hub_id = world.experts_hub_id
    runtime = await build_runtime(settings, worker_id="webhook-test")
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(runtime, stop=stop, handle_signals=False))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        try:
            await wait_http(http, f"{base}/healthz")
            async with asyncio.timeout(10):
                while True:
                    if sandbox.world.bots[world.token].webhook is not None:
                        break
                    await asyncio.sleep(0.05)
            yield Hooked(runtime, sandbox, sandbox_client, world, base, url, http, stop, serving)
        finally:
            stop.set()
            try:
                await asyncio.wait_for(serving, 15)
            finally:
                await runtime.close()
                release_routers(runtime)


def release_routers(runtime: Runtime) -> None:
    """Detach the handlers' module-level routers so the next test can build a dispatcher."""
    for router in runtime.dispatcher.sub_routers:
        router._parent_router = None  # aiogram has no public way to detach a router
    runtime.dispatcher.sub_routers.clear()


async def test_webhook_is_set_with_secret_and_used_update_types(hooked: Hooked) -> None:
    """setWebhook carries the URL, a secret and exactly the update types the bot handles."""
    hook = hooked.sandbox.world.bots[hooked.world.token].webhook
    assert hook is not None
    assert hook.url == hooked.url
    assert hook.secret_token == webhook_secret(hooked.runtime.settings)
    info = await hooked.runtime.bot.get_webhook_info()
    used = hooked.runtime.dispatcher.resolve_used_update_types()
    assert sorted(info.allowed_updates or []) == sorted(used)
    assert "message" in used


def test_secret_is_configured_or_derived_from_the_token() -> None:
    """Workers of one bot agree on the secret; another bot or a configured one differs."""
    first = Settings()
    first.telegram.token = first.telegram.token.__class__("1:aaaaaaaaaaaaaaaaaaaaaaaa")
    second = Settings()
    second.telegram.token = second.telegram.token.__class__("1:aaaaaaaaaaaaaaaaaaaaaaaa")
    other = Settings()
    other.telegram.token = other.telegram.token.__class__("2:bbbbbbbbbbbbbbbbbbbbbbbb")
    assert webhook_secret(first) == webhook_secret(second) != webhook_secret(other)
    assert all(c.isalnum() or c in "_-" for c in webhook_secret(first))
    configured = Settings()
    configured.telegram.webhook_secret = configured.telegram.token.__class__("my-secret_1")
    assert webhook_secret(configured) == "my-secret_1"


def _update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Mallory"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Mallory"},
            "text": "지하차도가 침수됐어요",
        },
    }


@pytest.mark.parametrize("secret", [None, "wrong-secret", "", "é-not-ascii"])
async def test_missing_or_wrong_secret_gets_401_and_changes_nothing(
    hooked: Hooked, secret: str | None
) -> None:
    """A forged update is refused before it reaches the dispatcher."""
    await hooked.delivered()
    processed, queued = await hooked.count(ProcessedUpdate), await hooked.count(OutboxMessage)
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with hooked.http.post(
        hooked.url, json=_update(990_001, 424_242), headers=headers
    ) as response:
        assert response.status == 401
    assert await hooked.count(ProcessedUpdate) == processed
    assert await hooked.count(OutboxMessage) == queued


async def test_right_secret_is_handled_once(hooked: Hooked) -> None:
    """The same update posted twice with the right secret is processed once."""
    user = await hooked.client.create_user(first_name="Eve", language_code="ko")
    headers = {SECRET_HEADER: webhook_secret(hooked.runtime.settings)}
    update = _update(990_002, int(user["id"]))
    await hooked.delivered()
    processed, queued = await hooked.count(ProcessedUpdate), await hooked.count(OutboxMessage)
    for _ in range(2):
        async with hooked.http.post(hooked.url, json=update, headers=headers) as response:
            assert response.status == 200
    assert await hooked.count(ProcessedUpdate) == processed + 1
    rows = await hooked.count(OutboxMessage)
    assert rows > queued
    async with hooked.http.post(hooked.url, json=update, headers=headers) as response:
        assert response.status == 200
    assert await hooked.count(OutboxMessage) == rows


async def test_a_worker_handles_at_most_its_limit_of_updates_at_once(hooked: Hooked) -> None:
    """Thirty updates posted at once: at most ``max_concurrent_updates`` are handled together,
    the others wait their turn, and every one is handled."""
    limit = hooked.runtime.settings.telegram.max_concurrent_updates
    headers = {SECRET_HEADER: webhook_secret(hooked.runtime.settings)}
    users = [await hooked.client.create_user(first_name=f"시민{n}") for n in range(30)]
    await hooked.delivered()
    processed = await hooked.count(ProcessedUpdate)
    admission = hooked.runtime.admission
    peak = waited = 0

    async def counting(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # Last in the chain (behind SQLite's write gate too): read the admission's count.
        nonlocal peak, waited
        await asyncio.sleep(0.05)  # long enough for the others to pile up
        peak, waited = max(peak, admission.running), max(waited, admission.waiting)
        return await handler(event, data)

    hooked.runtime.dispatcher.update.outer_middleware(counting)

    async def post(number: int, user: dict[str, Any]) -> int:
        update = _update(991_000 + number, int(user["id"]))
        async with hooked.http.post(hooked.url, json=update, headers=headers) as response:
            return response.status

    statuses = await asyncio.gather(*(post(n, user) for n, user in enumerate(users)))
    assert statuses == [200] * 30
    assert peak == limit == 10
    assert waited > 0
    assert await hooked.count(ProcessedUpdate) == processed + 30


async def test_citizen_message_through_the_webhook_is_answered(hooked: Hooked) -> None:
    """The sandbox delivers a citizen's message by webhook; the answer reaches the chat."""
    citizen = hooked.world.citizens[0]
    await hooked.delivered()
    processed = await hooked.count(ProcessedUpdate)
    await hooked.client.send_text(citizen.id, citizen.id, "지하차도에 물이 차올라요")
    answer = await hooked.client.wait_for_message(citizen.id, timeout=15)
    assert answer["from"]["is_bot"]
    assert await hooked.count(ProcessedUpdate) == processed + 1


async def test_health_ready_and_metrics(hooked: Hooked) -> None:
    """Probes answer, and /metrics shows updates, latency, outbox and incidents."""
    async with hooked.http.get(f"{hooked.base}/healthz") as response:
        assert response.status == 200
    async with hooked.http.get(f"{hooked.base}/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"database": True, "sender": True}
    citizen = hooked.world.citizens[1]
    await hooked.client.send_text(citizen.id, citizen.id, "Water is flooding the underpass")
    await hooked.client.wait_for_message(citizen.id, timeout=15)
    async with hooked.http.get(f"{hooked.base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    assert 'jikimi_updates_total{type="message"}' in body
    assert 'jikimi_handler_seconds_count{type="message"}' in body
    assert 'jikimi_outbox_depth{status="pending"}' in body
    assert "jikimi_outbox_oldest_age_seconds" in body
    assert "jikimi_open_incidents" in body
    assert "jikimi_updates_running 0.0" in body  # the scrape's own request is no update
    assert "jikimi_updates_waiting 0.0" in body
    assert "jikimi_database_up 1.0" in body


async def _metric(hooked: Hooked, line_start: str) -> float:
    """The value of the /metrics line that starts with ``line_start`` (0 when absent)."""
    async with hooked.http.get(f"{hooked.base}/metrics") as response:
        body = await response.text()
    for line in body.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_an_update_delivered_again_counts_as_repeated_not_handled(hooked: Hooked) -> None:
    """Telegram's redelivery of a handled update shows in its own counter."""
    user = await hooked.client.create_user(first_name="Eve", language_code="ko")
    headers = {SECRET_HEADER: webhook_secret(hooked.runtime.settings)}
    await hooked.delivered()
    handled = await _metric(hooked, 'jikimi_updates_total{type="message"}')
    for _ in range(3):
        async with hooked.http.post(
            hooked.url, json=_update(990_003, int(user["id"])), headers=headers
        ) as response:
            assert response.status == 200
    assert await _metric(hooked, 'jikimi_updates_total{type="message"}') == handled + 1
    assert await _metric(hooked, 'jikimi_updates_repeated_total{type="message"}') == 2


async def test_a_429_to_get_file_is_counted_and_waited_out(hooked: Hooked) -> None:
    """Telegram's 429 to the photo's download is counted, and the photo is stored anyway."""
    citizen = hooked.world.citizens[1]
    await hooked.client.fault("429", count=1, retry_after=1, method="getFile")
    await hooked.client.send_photo(
        citizen.id, citizen.id, tiny_png(8, 6, (200, 40, 40)), caption="간판이 떨어졌어요"
    )
    await hooked.client.wait_for_message(citizen.id, timeout=15)
    assert await _metric(hooked, "jikimi_telegram_429_total") == 1
    async with hooked.runtime.session_factory() as session:
        statuses = (await session.exec(select(ReportMedia.status))).all()
    assert list(statuses) == [MediaStatus.STORED]


async def test_readyz_is_503_when_the_sender_stops(hooked: Hooked) -> None:
    """A worker whose sender stopped is not ready."""
    await hooked.runtime.sender.stop()
    async with asyncio.timeout(10):
        while True:
            async with hooked.http.get(f"{hooked.base}/readyz") as response:
                if response.status == 503:
                    assert (await response.json())["sender"] is False
                    return
            await asyncio.sleep(0.05)


async def test_readyz_is_503_when_a_check_fails() -> None:
    """Any failing check (an unreachable database) makes /readyz answer 503."""

    async def ok() -> bool:
        return True

    async def down() -> bool:
        return False

    app = web.Application()
    add_health_routes(app, checks={"database": down, "sender": ok})
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 503
                assert await response.json() == {"database": False, "sender": True}
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_stopping_finishes_the_sends_in_flight(hooked: Hooked) -> None:
    """A stopped worker lets its sender finish: no send fails on a closed HTTP session."""
    await hooked.delivered()
    await hooked.client.fault("slow", count=20, delay=1.0, method="sendMessage")
    for citizen in hooked.world.citizens:
        await hooked.client.send_text(citizen.id, citizen.id, "골목 배수구가 넘쳐요")
    await hooked.delivered()
    async with asyncio.timeout(10):
        while True:  # wait until the sender has a (slow) send in flight
            async with hooked.runtime.session_factory() as session:
                statement = select(func.count()).where(OutboxMessage.status == "sending")
                if (await session.exec(statement)).one():
                    break
            await asyncio.sleep(0.02)
    hooked.stop.set()
    await asyncio.wait_for(hooked.serving, 15)
    await hooked.runtime.sender.stop()
    async with hooked.runtime.session_factory() as session:
        errors = (
            await session.exec(
                select(OutboxMessage.last_error).where(OutboxMessage.last_error != None)  # noqa: E711
            )
        ).all()
    assert not [error for error in errors if error and error.startswith("network")], errors


async def _kept(hooked: Hooked) -> list[FailedUpdate]:
    async with hooked.runtime.session_factory() as session:
        return list((await session.exec(select(FailedUpdate).order_by(FailedUpdate.id))).all())


async def test_a_malformed_update_between_two_good_ones_through_the_webhook(
    hooked: Hooked,
) -> None:
    """The sandbox delivers a good, an unreadable and a good update: every delivery is
    answered 200, the good ones are handled, the bad one is kept and its writer answered."""
    first, last = hooked.world.citizens[0], hooked.world.citizens[1]
    writer = await hooked.client.create_user(first_name="투표", language_code="ko")
    await hooked.delivered()
    await hooked.client.send_text(first.id, first.id, "지하차도에 물이 차올라요")
    bad = await hooked.client.inject_update(
        "message", poll_message(int(writer["id"]), "투표", "ko")
    )
    await hooked.client.send_text(last.id, last.id, "가로수가 쓰러졌어요")
    assert bad is not None
    await hooked.delivered()
    assert (await hooked.runtime.bot.get_webhook_info()).last_error_message is None
    assert (await hooked.client.wait_for_message(first.id, timeout=15))["from"]["is_bot"]
    assert (await hooked.client.wait_for_message(last.id, timeout=15))["from"]["is_bot"]
    answer = await hooked.client.wait_for_message(int(writer["id"]), timeout=15)
    assert "죄송합니다" in answer["text"]
    (kept,) = await _kept(hooked)
    assert kept.update_id == bad["update_id"] and kept.payload == bad
    assert await _metric(hooked, 'jikimi_updates_total{type="malformed"}') == 1


async def test_a_malformed_update_posted_again_is_kept_once(hooked: Hooked) -> None:
    """Telegram's redelivery of an unreadable update is answered 200 and changes nothing."""
    user = await hooked.client.create_user(first_name="Eve", language_code="en")
    headers = {SECRET_HEADER: webhook_secret(hooked.runtime.settings)}
    update = {"update_id": 990_010, "message": poll_message(int(user["id"]), "Eve", "en")}
    await hooked.delivered()
    queued = await hooked.count(OutboxMessage)
    for _ in range(2):
        async with hooked.http.post(hooked.url, json=update, headers=headers) as response:
            assert response.status == 200
    (kept,) = await _kept(hooked)
    assert kept.update_id == 990_010 and kept.payload == update
    assert await hooked.count(OutboxMessage) == queued + 1  # one answer, not two


async def test_a_body_that_is_no_json_gets_400_not_500(hooked: Hooked) -> None:
    """A request that is not even JSON is refused as a bad request, and nothing is kept."""
    headers = {SECRET_HEADER: webhook_secret(hooked.runtime.settings)}
    async with hooked.http.post(hooked.url, data=b"{not json", headers=headers) as response:
        assert response.status == 400
    assert await _kept(hooked) == []
