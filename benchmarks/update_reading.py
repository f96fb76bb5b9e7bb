"""Micro-benchmark: CPU to read a getUpdates answer, aiogram's batch read against ours.

python -m benchmarks.update_reading          # batches of 1, 10 and 100 surge-like updates
# instructions instead of CPU time (steady on a busy machine): the difference of two runs
PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    python -m benchmarks.update_reading --way batch --size 100 --times 0    # and --times 20
# ways: batch, read_updates, each, feed_plain, feed_guarded (the same warm-up for all)

Both sides run the code polling runs: the session's ``check_response`` (JSON, then the answer's
model), for ``GetUpdates`` (aiogram: ``list[Update]`` at once) and for ``GetRawUpdates`` plus
``read_updates`` (``bot.polling``), and, as the worst case, ``read_update`` for every item (what
a batch with an unreadable update costs). The answers mix what a surge brings: a text, a
location and a photo per citizen. Rounds alternate; the figure is the median of 15 rounds, in
microseconds of CPU per update (the lowest round in brackets). Also timed: the two outer
middlewares every update now passes (``bot.middlewares.malformed``), through
``Dispatcher.feed_update``, with and without them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates
from aiogram.types import Message, Update

from bot.malformed import read_update
from bot.middlewares.malformed import MalformedChatLock, MalformedUpdateMiddleware
from bot.polling import GetRawUpdates, read_updates

TOKEN = "7000000001:update-reading-benchmark"
ROUNDS = 15


def surge_update(n: int) -> dict[str, Any]:
    """The n-th update of a surge: a text, a location or a photo, from citizen n // 3."""
    user = {"id": 7_000_000 + n // 3, "is_bot": False, "first_name": "시민", "language_code": "ko"}
    message: dict[str, Any] = {
        "message_id": n,
        "date": 1_700_000_000,
        "chat": {"id": user["id"], "type": "private", "first_name": "시민"},
        "from": user,
    }
    kind = n % 3
    if kind == 0:
        message["text"] = "지하차도가 침수됐어요 물이 계속 차올라요"
    elif kind == 1:
        message["location"] = {"latitude": 37.5663, "longitude": 126.9779}
    else:
        message["photo"] = [
            {"file_id": f"p{n}-{w}", "file_unique_id": f"u{n}{w}", "width": w, "height": w}
            for w in (90, 320, 800)
        ]
    return {"update_id": n, "message": message}


def cpu_per_update(work: Callable[[], object], updates: int) -> float:
    """CPU microseconds per update of one round (repeated to about 20 ms)."""
    repeat = max(1, 2000 // updates)
    started = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - started) / repeat / updates * 1e6


def ways(bot: Bot, size: int) -> dict[str, Callable[[], object]]:
    """The three ways to read a getUpdates answer of ``size`` updates, by name."""
    content = json.dumps({"ok": True, "result": [surge_update(n) for n in range(size)]})
    batch_method, raw_method = GetUpdates(offset=1), GetRawUpdates(offset=1)

    def batch() -> object:
        return bot.session.check_response(bot, batch_method, 200, content).result

    def ours() -> object:
        return read_updates(bot.session.check_response(bot, raw_method, 200, content).result, bot)

    def one_by_one() -> object:
        items = bot.session.check_response(bot, raw_method, 200, content).result
        return [read_update(item, bot) for item in items]

    return {"batch": batch, "read_updates": ours, "each": one_by_one}


def dispatcher(*, guarded: bool) -> Dispatcher:
    """A dispatcher with one message handler, with or without the two middlewares."""
    built = Dispatcher()
    if guarded:
        built.update.outer_middleware(MalformedChatLock(built.fsm))
        built.update.outer_middleware(MalformedUpdateMiddleware(default_language="ko"))

    @built.message()
    async def handle(message: Message) -> None:
        return None

    return built


def feeds(bot: Bot, size: int, loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[], object]]:
    """``feed_update`` of ``size`` updates to a handler, without and with the two middlewares."""
    update = Update.model_validate(surge_update(0), context={"bot": bot})

    def feeding(target: Dispatcher) -> Callable[[], object]:
        async def feed() -> None:
            for _ in range(size):
                await target.feed_update(bot, update)

        return lambda: loop.run_until_complete(feed())

    return {
        "feed_plain": feeding(dispatcher(guarded=False)),
        "feed_guarded": feeding(dispatcher(guarded=True)),
    }


def timed(chosen: list[Callable[[], object]], size: int) -> list[tuple[float, float]]:
    """(median, lowest) CPU per update of each way, rounds alternating."""
    for way in chosen:
        way()  # build the models first
    timings: list[list[float]] = [[] for _ in chosen]
    for _ in range(ROUNDS):
        for way, into in zip(chosen, timings, strict=True):
            into.append(cpu_per_update(way, size))
    return [(statistics.median(t), min(t)) for t in timings]


def main() -> None:
    """Print the figures (or, with ``--way``, run one way for a callgrind count)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.update_reading")
    parser.add_argument(
        "--way", choices=["batch", "read_updates", "each", "feed_plain", "feed_guarded"]
    )
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--times", type=int, default=20)
    args = parser.parse_args()
    bot = Bot(TOKEN)
    loop = asyncio.new_event_loop()
    if args.way:
        every = {**ways(bot, args.size), **feeds(bot, args.size, loop)}
        for way in every.values():
            way()  # the same warm-up whatever is counted
        for _ in range(args.times):
            every[args.way]()
        return
    print("reading a getUpdates answer, CPU us per update: median (lowest) of 15 rounds")
    print(f"{'batch':>5}  {'aiogram':>13}  {'read_updates':>13}  {'each on its own':>15}")
    for size in (1, 10, 100):
        cells = [f"{m:5.1f} ({low:5.1f})" for m, low in timed(list(ways(bot, size).values()), size)]
        print(f"{size:>5}  {cells[0]:>13}  {cells[1]:>13}  {cells[2]:>15}")
    (plain, plain_low), (guarded, guarded_low) = timed(list(feeds(bot, 100, loop).values()), 100)
    print(
        f"feed_update to a handler: {plain:.1f} ({plain_low:.1f}) us, with the two middlewares"
        f" {guarded:.1f} ({guarded_low:.1f}) us"
    )


if __name__ == "__main__":
    main()
