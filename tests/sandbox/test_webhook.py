"""Webhook delivery: secret header, retries on non-2xx, pending_update_count, dropped deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiohttp import web

from tests.sandbox.conftest import World


class Receiver:
    """A tiny webhook endpoint that records deliveries and fails on demand."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, Any], str | None]] = []
        self.fail_next = 0
        self.answer: dict[str, Any] | None = None
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.deliveries.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=502)
        if self.answer is not None:
            return web.json_response(self.answer)
        return web.Response(text="ok")

    async def wait(self, count: int, limit: float = 5.0) -> None:
        """Wait until ``count`` deliveries arrived."""
        async with asyncio.timeout(limit):
            while len(self.deliveries) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()

    async def route(request: web.Request) -> web.Response:
        return await hook.handle(request)

    app.router.add_post("/hook", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hook.url = f"http://127.0.0.1:{port}/hook"
    yield hook
    await runner.cleanup()


async def test_delivery_with_secret_header(world: World, receiver: Receiver) -> None:
    assert await world.bot.set_webhook(
        receiver.url, secret_token="s3cret-token", drop_pending_updates=True
    )
    await world.client.send_text(world.alice["id"], world.alice["id"], "웹훅")
    await receiver.wait(1)
    update, secret = receiver.deliveries[0]
    assert secret == "s3cret-token"
    assert update["message"]["text"] == "웹훅"
    assert update["message"]["chat"] == {
        "id": world.alice["id"],
        "type": "private",
        "first_name": "Alice",
    }
    info = await world.bot.get_webhook_info()
    assert info.url == receiver.url


async def test_retries_until_2xx_and_reports_pending(world: World, receiver: Receiver) -> None:
    await world.bot.set_webhook(receiver.url, drop_pending_updates=True)
    receiver.fail_next = 2
    await world.client.send_text(world.alice["id"], world.alice["id"], "재시도")
    await receiver.wait(1)
    info = await world.bot.get_webhook_info()
    assert info.pending_update_count == 1
    await receiver.wait(3)
    ids = {update["update_id"] for update, _ in receiver.deliveries}
    assert len(ids) == 1 and len(receiver.deliveries) == 3
    for _ in range(50):
        info = await world.bot.get_webhook_info()
        if info.pending_update_count == 0:
            break
        await asyncio.sleep(0.05)
    assert info.pending_update_count == 0
    assert info.last_error_message and "502" in info.last_error_message


async def test_dropped_delivery_is_retried(world: World, receiver: Receiver) -> None:
    await world.client.fault("drop_webhook", count=1)
    await world.bot.set_webhook(receiver.url, drop_pending_updates=True)
    await world.client.send_text(world.alice["id"], world.alice["id"], "유실")
    await receiver.wait(1)
    assert receiver.deliveries[0][0]["message"]["text"] == "유실"
    info = await world.bot.get_webhook_info()
    assert info.last_error_message == "Connection reset by peer"


async def test_method_in_webhook_answer_is_executed(world: World, receiver: Receiver) -> None:
    receiver.answer = {"method": "sendMessage", "chat_id": world.alice["id"], "text": "응답"}
    await world.bot.set_webhook(receiver.url, drop_pending_updates=True)
    await world.client.send_text(world.alice["id"], world.alice["id"], "질문")
    reply = await world.client.wait_for_message(world.alice["id"], contains="응답")
    assert reply["from"]["is_bot"]


async def test_bad_secret_token_is_rejected(world: World, receiver: Receiver) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await world.bot.set_webhook(receiver.url, secret_token="no spaces!")


async def test_chats_are_delivered_in_parallel_but_each_in_order(
    world: World, receiver: Receiver
) -> None:
    release = asyncio.Event()
    original = receiver.handle

    async def hold_alice(request: web.Request) -> web.Response:
        response = await original(request)
        update = receiver.deliveries[-1][0]
        if update.get("message", {}).get("text") == "alice 1":
            await release.wait()
        return response

    receiver.handle = hold_alice  # type: ignore[method-assign]
    await world.bot.set_webhook(receiver.url, drop_pending_updates=True)
    alice, bob = world.alice["id"], world.bob["id"]
    await world.client.send_text(alice, alice, "alice 1")
    await receiver.wait(1)
    await world.client.send_text(alice, alice, "alice 2")
    await world.client.send_text(bob, bob, "bob 1")
    await receiver.wait(2)
    texts = [u["message"]["text"] for u, _ in receiver.deliveries]
    assert texts == ["alice 1", "bob 1"]  # bob is not stuck behind alice, alice 2 waits
    release.set()
    await receiver.wait(3)
    assert [u["message"]["text"] for u, _ in receiver.deliveries][-1] == "alice 2"
