"""Surge: N citizens report at once (text + location, some with a photo) through the sandbox.

For each citizen the clock starts when their first message is sent and stops when the bot's
answer (the action manual for jikimi, the echo for the bare bot) lands in their chat. Citizens
start at ``rate`` per second, each sending their messages one after another like a phone does.
The sandbox's rate limits are off here: Telegram's 30 messages/s ceiling would otherwise cap
both bots alike; the outbound benchmark measures the sender under those limits.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmarks.processes import BotProcess, ProcessGroup
from benchmarks.watch import Arrival, ChatWatcher
from sandbox.client import SandboxClient
from sandbox.images import tiny_png
from sandbox.server import SandboxConfig, SandboxServer

# Places in Seoul and Incheon the simulated citizens stand at.
PLACES = [
    (37.5665, 126.9780),
    (37.5172, 127.0473),
    (37.4563, 126.7052),
    (37.6543, 127.0568),
    (37.4386, 126.6750),
]
REPORT_TEXTS = [
    "지하차도에 물이 차올라 차가 잠기고 있어요",
    "골목 배수구가 넘쳐서 도로가 침수됐어요",
    "강풍에 간판이 떨어질 것 같아요",
    "Water is flooding the underpass near the station",
]


class Target(Protocol):
    """A bot under load: how to set it up, run it, talk to it and check what it stored."""

    label: str

    async def setup(self, client: SandboxClient, api_base: str, workdir: Path) -> int:
        """Create the bot (and its world) in the sandbox; return the bot's user id."""

    def process(self, api_base: str, workdir: Path) -> BotProcess | ProcessGroup:
        """The process (or processes) that run the bot."""

    async def prepare(self, client: SandboxClient, watcher: ChatWatcher, user_id: int) -> None:
        """Everything a citizen did before the surge (not measured)."""

    def is_answer(self, data: dict[str, Any]) -> bool:
        """Whether a bot message is the answer the citizen waits for."""

    async def stored_reports(self, user_ids: list[int]) -> dict[int, int] | None:
        """How many reports the bot stored per citizen (None when it stores nothing)."""

    async def staff_room(self) -> tuple[int, int] | None:
        """Messages queued for the staff group so far, and how many of them are still unsent."""

    async def citizen_replies(self) -> tuple[int, int] | None:
        """Messages queued for citizens so far, and how many of them are still unsent."""

    async def cleanup(self) -> None:
        """Release what setup created (database schemas...)."""


@dataclass
class SurgeResult:
    """The figures of one surge run."""

    label: str
    citizens: int
    offered_rate: float
    photos: int
    answered: int = 0
    lost: int = 0
    duplicated_reports: int = 0
    duplicated_answers: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    bot_cpu_seconds: float = 0.0
    harness_cpu_seconds: float = 0.0  # the sandbox and the simulated citizens
    stored: bool = False
    staff_messages: int | None = None  # queued for the staff group when the last answer came
    staff_unsent: int | None = None  # of those, still waiting to be sent then
    citizen_messages: int | None = None  # queued for citizens when the last answer came
    citizen_unsent: int | None = None  # of those, still waiting to be sent then
    replies_seconds: float | None = None  # from the first send until citizens had every reply

    @property
    def throughput(self) -> float:
        """Answered reports per second over the whole surge."""
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in seconds (``q`` in 0..100)."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[
            min(998, max(0, round(q * 10) - 1))
        ]


async def _citizen(
    client: SandboxClient,
    watcher: ChatWatcher,
    target: Target,
    user_id: int,
    index: int,
    *,
    start_at: float,
    with_photo: bool,
    wait: float,
) -> tuple[float, Arrival | None]:
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    sent_at = time.perf_counter()
    latitude, longitude = PLACES[index % len(PLACES)]
    text = f"{REPORT_TEXTS[index % len(REPORT_TEXTS)]} #{index}"
    await client.send_text(user_id, user_id, text)
    await client.send_location(user_id, user_id, latitude + index * 1e-5, longitude)
    if with_photo:
        await client.send_photo(user_id, user_id, tiny_png(8, 6, (index % 256, 90, 200)))
    answer = await watcher.wait_for(user_id, target.is_answer, since=sent_at, within=wait)
    return sent_at, answer


async def _replies_delivered(target: Target, started: float, *, within: float) -> float | None:
    """Seconds from ``started`` until no reply to a citizen is unsent (None: not within)."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        replies = await target.citizen_replies()
        if replies is None or replies[1] == 0:
            return time.perf_counter() - started
        await asyncio.sleep(0.25)
    return None


async def _sample_memory(process: BotProcess | ProcessGroup, stop: asyncio.Event) -> None:
    while not stop.is_set():
        process.sample_memory()
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            continue


async def _wait_ready(
    process: BotProcess | ProcessGroup,
    client: SandboxClient,
    watcher: ChatWatcher,
    within: float,
) -> None:
    """Wait until the bot answers a warm-up ``/start`` (or fail with its log)."""
    user = int((await client.create_user(first_name="warm-up", language_code="ko"))["id"])
    await client.send_text(user, user, "/start")
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if not process.alive():
            raise RuntimeError(f"the bot exited:\n{process.tail()}")
        if await watcher.wait_for(user, lambda _data: True, since=0.0, within=0.5):
            return
    raise RuntimeError(f"the bot did not answer within {within:.0f} s:\n{process.tail()}")


async def run_surge(
    target: Target,
    *,
    citizens: int,
    rate: float,
    photo_every: int,
    workdir: Path,
    wait: float = 90.0,
    prepare_concurrency: int = 20,
) -> SurgeResult:
    """Run one surge against ``target`` and return its figures."""
    config = SandboxConfig(host="127.0.0.1", port=0, rate_limits=False)
    result = SurgeResult(
        label=target.label,
        citizens=citizens,
        offered_rate=rate,
        photos=sum(1 for i in range(citizens) if photo_every and i % photo_every == 0),
    )
    async with SandboxServer(config) as server, SandboxClient(server.url) as client:
        bot_id = await target.setup(client, server.url, workdir)
        watcher = ChatWatcher(server, bot_id)
        process = target.process(server.url, workdir)
        await process.start()
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(_sample_memory(process, stop_sampling))
        try:
            await _wait_ready(process, client, watcher, 60)
            users = [
                int((await client.create_user(first_name=f"시민{i}", language_code="ko"))["id"])
                for i in range(citizens)
            ]
            gate = asyncio.Semaphore(prepare_concurrency)

            async def prepare(user_id: int) -> None:
                async with gate:
                    await target.prepare(client, watcher, user_id)

            await asyncio.gather(*(prepare(user) for user in users))
            await asyncio.sleep(0.5)
            process.sample_memory()
            cpu_before = process.cpu_seconds
            harness_before = time.process_time()
            started = time.perf_counter() + 0.2
            runs = await asyncio.gather(
                *(
                    _citizen(
                        client,
                        watcher,
                        target,
                        user,
                        index,
                        start_at=started + index / rate,
                        with_photo=bool(photo_every) and index % photo_every == 0,
                        wait=wait,
                    )
                    for index, user in enumerate(users)
                )
            )
            process.sample_memory()
            result.bot_cpu_seconds = process.cpu_seconds - cpu_before
            result.harness_cpu_seconds = time.process_time() - harness_before
            answers = [(sent, answer) for sent, answer in runs if answer is not None]
            result.answered = len(answers)
            result.lost = citizens - len(answers)
            result.latencies = sorted(answer.at - sent for sent, answer in answers)
            last = max((answer.at for _, answer in answers), default=started)
            staff = await target.staff_room()
            if staff is not None:
                result.staff_messages, result.staff_unsent = staff
            result.seconds = max(1e-9, last - started)
            replies = await target.citizen_replies()
            if replies is not None:
                result.citizen_messages, result.citizen_unsent = replies
                result.replies_seconds = await _replies_delivered(target, started, within=wait)
            await asyncio.sleep(1.0)  # late duplicates would land now
            for (sent, _), user in zip(runs, users, strict=True):
                extra = len(watcher.matching(user, target.is_answer, since=sent)) - 1
                result.duplicated_answers += max(0, extra)
            stored = await target.stored_reports(users)
            if stored is not None:
                result.stored = True
                missing = sum(1 for user in users if stored.get(user, 0) == 0)
                result.lost = max(result.lost, missing)
                result.duplicated_reports = sum(max(0, n - 1) for n in stored.values())
        finally:
            stop_sampling.set()
            await sampler
            await process.stop()
            result.peak_rss_mib = process.peak_rss_kib / 1024
            await target.cleanup()
    return result
