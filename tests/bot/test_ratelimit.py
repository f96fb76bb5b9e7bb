"""The token buckets pace sends like Telegram's limits, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.ratelimit import RateLimiter, RateLimitTimeout, TokenBucket, chat_kind_of
from bot.settings import SenderSettings


class FakeClock:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter_for(clock: FakeClock, **overrides: float) -> RateLimiter:
    settings = SenderSettings(**overrides)  # type: ignore[arg-type]
    return RateLimiter.from_settings(settings, clock=clock, sleep=clock.sleep)


def test_chat_kind_follows_the_sign_of_the_id() -> None:
    """Users have positive ids; groups, supergroups and channels negative ones."""
    assert chat_kind_of(12345) == "private"
    assert chat_kind_of(-1001234567890) == "group"


def test_bucket_refills_continuously_up_to_capacity() -> None:
    """A bucket in debt waits for the refill and never holds more than its capacity."""
    bucket = TokenBucket(capacity=3, rate=1.0, tokens=3, stamp=0.0)
    bucket.take(0.0, 5)
    assert bucket.wait_time(0.0) == pytest.approx(3.0)
    assert bucket.wait_time(3.0) == 0.0
    bucket.refill(100.0)
    assert bucket.tokens == 3


async def test_private_chat_bursts_then_one_per_second(clock: FakeClock) -> None:
    """Three messages go at once, the next ones one second apart."""
    limiter = limiter_for(clock)
    waits = [await limiter.acquire(42, "private") for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == [pytest.approx(1.0)] * 3
    assert clock.now == pytest.approx(1003.0)


async def test_a_chat_counts_a_send_when_telegram_answered(clock: FakeClock) -> None:
    """A first send slow on its way does not let a later one reach Telegram's bucket early."""
    limiter = limiter_for(clock)
    telegram = TokenBucket(capacity=3, rate=1.0, tokens=3, stamp=clock.now)  # at arrival
    waits = []
    for on_its_way in (0.05, 0.001, 0.001, 0.001, 0.001):
        waits.append(await limiter.acquire(42, "private"))
        clock.now += on_its_way  # the request reaches Telegram, which counts it
        assert telegram.wait_time(clock.now) == 0.0, f"send {len(waits)}: a 429"
        telegram.take(clock.now)
        clock.now += 0.001  # its answer comes back
        limiter.settle(42, "private")
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst is not slowed


async def test_settling_a_chat_in_debt_keeps_one_per_second(clock: FakeClock) -> None:
    """Once the burst is spent, counting sends at their answers costs no extra wait."""
    limiter = limiter_for(clock)
    waits = []
    for _ in range(6):
        waits.append(await limiter.acquire(42, "private"))
        limiter.settle(42, "private")
    assert waits == [0.0, 0.0, 0.0] + [pytest.approx(1.0)] * 3


async def test_group_is_paced_at_twenty_per_minute(clock: FakeClock) -> None:
    """After the burst a group gets one message every three seconds."""
    limiter = limiter_for(clock)
    for _ in range(3):
        assert await limiter.acquire(-100, "group") == 0.0
    assert await limiter.acquire(-100, "group") == pytest.approx(3.0)
    assert await limiter.acquire(-100, "group") == pytest.approx(3.0)


async def test_global_limit_spans_chats(clock: FakeClock) -> None:
    """Five different chats go at once (the global burst); the sixth waits for the bucket."""
    limiter = limiter_for(clock)
    for chat in range(1, 6):
        assert await limiter.acquire(chat, "private") == 0.0
    assert await limiter.acquire(6, "private") == pytest.approx(1 / 30)


async def test_chats_do_not_slow_each_other(clock: FakeClock) -> None:
    """An exhausted private chat does not hold back another chat."""
    limiter = limiter_for(clock)
    for _ in range(3):
        await limiter.acquire(1, "private")
    assert limiter.delay(1, "private") == pytest.approx(1.0)
    assert limiter.delay(2, "private") == 0.0


async def test_album_costs_one_token_per_item(clock: FakeClock) -> None:
    """An album of five drives the chat into debt; the next send waits for it."""
    limiter = limiter_for(clock)
    assert await limiter.acquire(7, "private", cost=5) == 0.0
    assert limiter.delay(7, "private") == pytest.approx(3.0)


async def test_hold_delays_one_chat_and_hold_all_every_chat(clock: FakeClock) -> None:
    """A 429 hold keeps one chat waiting; a global hold keeps them all waiting."""
    limiter = limiter_for(clock)
    limiter.hold(5, 7)
    assert limiter.delay(5, "private") == pytest.approx(7.0)
    assert limiter.delay(6, "private") == 0.0
    assert await limiter.acquire(5, "private") == pytest.approx(7.0)
    limiter.hold_all(4)
    assert limiter.delay(6, "private") == pytest.approx(4.0)
    assert limiter.delay(-9, "group") == pytest.approx(4.0)
    assert limiter.held_until(6) == pytest.approx(clock.now + 4)


async def test_hold_never_shortens_an_existing_hold(clock: FakeClock) -> None:
    """A shorter retry_after does not cut a longer hold short."""
    limiter = limiter_for(clock)
    limiter.hold(5, 10)
    limiter.hold(5, 2)
    assert limiter.delay(5, "private") == pytest.approx(10.0)


async def _granted_in_order(limiter: RateLimiter, sends: list[tuple[str, int, int]]) -> list[str]:
    """Start ``sends`` (label, chat, priority) one after the other; return who got a token."""
    order: list[str] = []

    async def send(label: str, chat: int, priority: int, arrival: int) -> None:
        await limiter.acquire(chat, "private", rank=(priority, arrival))
        order.append(label)

    tasks = []
    for arrival, (label, chat, priority) in enumerate(sends):
        tasks.append(asyncio.create_task(send(label, chat, priority, arrival)))
        await asyncio.sleep(0)  # each one is waiting before the next arrives
    await asyncio.gather(*tasks)
    return order


async def test_the_overall_limit_goes_to_the_most_urgent_waiting_send() -> None:
    """A manual that starts waiting after two bulk messages is still sent before them."""
    limiter = RateLimiter(global_per_second=40, global_burst=1)
    await limiter.acquire(1, "private")  # the overall bucket is empty now
    order = await _granted_in_order(limiter, [("bulk-1", 2, 3), ("bulk-2", 3, 3), ("manual", 4, 0)])
    assert order == ["manual", "bulk-1", "bulk-2"]


async def test_a_send_its_own_chat_holds_lets_the_others_pass() -> None:
    """The most urgent send does not block the queue while its chat is held after a 429."""
    limiter = RateLimiter(global_per_second=40, global_burst=1)
    await limiter.acquire(1, "private")
    limiter.hold(4, 0.2)
    order = await _granted_in_order(limiter, [("bulk-1", 2, 3), ("manual", 4, 0)])
    assert order == ["bulk-1", "manual"]


async def test_a_cancelled_wait_hands_the_turn_on() -> None:
    """A send stopped while it waits leaves the queue; the next one is not stuck behind it."""
    limiter = RateLimiter(global_per_second=20, global_burst=1)
    await limiter.acquire(1, "private")
    first = asyncio.create_task(limiter.acquire(2, "private", rank=(0, 1)))
    await asyncio.sleep(0)
    second = asyncio.create_task(limiter.acquire(3, "private", rank=(3, 2)))
    await asyncio.sleep(0)
    first.cancel()
    assert await asyncio.wait_for(second, 1) < 0.2


async def test_a_send_overtaken_for_too_long_gives_up_and_takes_nothing() -> None:
    """Bulk behind a stream of manuals stops waiting after ``within`` (the sender requeues it)."""
    limiter = RateLimiter(global_per_second=50, global_burst=1)
    await limiter.acquire(1, "private")
    bulk = asyncio.create_task(limiter.acquire(2, "private", rank=(3, 1), within=0.1))
    manuals = [
        asyncio.create_task(limiter.acquire(10 + i, "private", rank=(0, 10 + i))) for i in range(8)
    ]
    with pytest.raises(RateLimitTimeout):
        await bulk
    await asyncio.gather(*manuals)
    assert limiter.delay(2, "private") <= 1 / 50  # chat 2 kept its tokens: nothing was sent


async def test_a_wait_longer_than_allowed_fails_at_once(clock: FakeClock) -> None:
    """A chat held past ``within`` is not slept on at all."""
    limiter = limiter_for(clock)
    limiter.hold(5, 30)
    with pytest.raises(RateLimitTimeout):
        await limiter.acquire(5, "private", within=5)
    assert clock.sleeps == []
