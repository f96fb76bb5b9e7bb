"""Rate limits (429 + retry_after) and injected faults."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.types import BufferedInputFile, InputMediaPhoto

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError
from sandbox.images import tiny_png
from sandbox.ratelimit import RateLimiter
from sandbox.server import SandboxServer
from tests.sandbox.conftest import World


async def test_private_chat_burst_then_429(world: World) -> None:
    await world.client.set_rate_limits(True)
    chat = world.alice["id"]
    results = await asyncio.gather(
        *(world.bot.send_message(chat, f"{i}") for i in range(10)), return_exceptions=True
    )
    limited = [r for r in results if isinstance(r, TelegramRetryAfter)]
    sent = [r for r in results if not isinstance(r, Exception)]
    assert len(sent) >= 3 and len(limited) >= 3 and len(sent) + len(limited) == 10
    assert all(r.retry_after >= 1 for r in limited)


async def test_an_album_counts_one_message_per_item(world: World) -> None:
    """Telegram counts an album's items as messages: a three-photo album spends the burst."""
    await world.client.set_rate_limits(True)
    chat = world.alice["id"]
    photos = [
        InputMediaPhoto(media=BufferedInputFile(tiny_png(rgb=(i, 0, 0)), f"{i}.png"))
        for i in range(3)
    ]
    assert len(await world.bot.send_media_group(chat, photos)) == 3
    with pytest.raises(TelegramRetryAfter):
        await world.bot.send_message(chat, "바로 다음")


async def test_every_429_of_the_limits_is_recorded(world: World) -> None:
    """The control API lists the 429s the limits answered, not the injected ones."""
    await world.client.set_rate_limits(True)
    chat = world.alice["id"]
    await world.client.fault("429", count=1, retry_after=7, method="sendMessage")
    with pytest.raises(TelegramRetryAfter):
        await world.bot.send_message(chat, "주입된 429")
    assert await world.client.rate_limited() == []
    for i in range(3):
        await world.bot.send_message(chat, f"{i}")
    with pytest.raises(TelegramRetryAfter):
        await world.bot.send_message(chat, "넷째")
    (refusal,) = await world.client.rate_limited(chat)
    assert refusal["chat_id"] == chat and refusal["retry_after"] >= 1
    assert await world.client.rate_limited(world.staff["id"]) == []


async def test_group_limit_is_twenty_per_minute(world: World) -> None:
    await world.client.set_rate_limits(True)
    group = world.staff["id"]
    sent = 0
    with pytest.raises(TelegramRetryAfter) as caught:
        # 20 at once, then one more every 3 seconds: a slow machine may squeeze in a few more
        while sent < 40:
            await world.bot.send_message(group, f"공지 {sent}")
            sent += 1
    assert sent >= 20
    assert caught.value.retry_after >= 1


def test_global_limit_under_load() -> None:
    limiter = RateLimiter(SandboxConfig(rate_limits=True, private_burst=100))
    accepted = 0
    retry_after = None
    for chat in range(100):
        try:
            limiter.check(bot_id=1, chat_id=chat + 1, is_private=True)
            accepted += 1
        except ApiError as exc:
            assert exc.code == 429
            retry_after = (exc.parameters or {}).get("retry_after")
            break
    assert accepted == 30 and retry_after == 1


async def test_switched_off_limits_let_everything_through(world: World) -> None:
    for i in range(10):
        await world.bot.send_message(world.alice["id"], f"{i}")


async def test_fault_429_storm_and_5xx(world: World) -> None:
    await world.client.fault("429", count=2, retry_after=7, method="sendMessage")
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await world.bot.send_message(world.alice["id"], "x")
        assert caught.value.retry_after == 7
    await world.bot.get_me()
    await world.bot.send_message(world.alice["id"], "ok")
    await world.client.fault("5xx", count=1, status=502)
    with pytest.raises(TelegramServerError):
        await world.bot.get_me()


async def test_slow_fault_delays_only_the_matching_method(world: World) -> None:
    await world.client.fault("slow", count=1, delay=2.0, method="getMe")
    slow = asyncio.create_task(world.bot.get_me())
    fast = asyncio.create_task(world.bot.send_message(world.alice["id"], "빠름"))
    done, _ = await asyncio.wait({slow, fast}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {fast}
    assert (await slow).username == "jikimi_bot"


async def test_overall_limit_under_load_over_http(world: World, sandbox: SandboxServer) -> None:
    users = [await world.client.create_user(first_name=f"시민{i}") for i in range(40)]
    for user in users:
        await world.client.start_bot(user["id"])
    # a lower ceiling than Telegram's 30/s keeps the test independent of the machine's speed
    sandbox.config.global_per_second = 10
    await world.client.set_rate_limits(True)
    results = await asyncio.gather(
        *(world.bot.send_message(user["id"], "대피하세요") for user in users),
        return_exceptions=True,
    )
    limited = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(limited) >= 5
    assert sum(1 for r in results if not isinstance(r, Exception)) >= 10
    assert all(r.retry_after == 1 for r in limited)
