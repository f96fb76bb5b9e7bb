"""``python -m benchmarks`` (``make bench``): the surge, outbound and intake figures.

python -m benchmarks                        # defaults: 300 citizens at 100 reports/s
python -m benchmarks --citizens 1000 --rate 200 --databases sqlite
python -m benchmarks --only outbound --outbound-messages 600
python -m benchmarks --only intake          # in process: CPU and SQL statements per report
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import cast, get_args

from benchmarks.surge import SurgeResult, Target, run_surge
from benchmarks.targets import (
    EchoTarget,
    JikimiSeparateSenderTarget,
    JikimiTarget,
    JikimiWebhookTarget,
)
from bot import event_loop
from bot.event_loop import EventLoopName

REDIS_URL = os.environ.get("JIKIMI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "JIKIMI_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--citizens", type=int, default=300, help="citizens in the surge")
    parser.add_argument("--rate", type=float, default=100.0, help="reports/s offered")
    parser.add_argument(
        "--photo-every", type=int, default=5, help="every k-th citizen adds a photo (0: none)"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma list of sqlite, postgres"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--redis-url", default=REDIS_URL, help="a Redis database for the bench")
    parser.add_argument(
        "--webhook-workers",
        type=int,
        default=2,
        help="also run this many webhook workers behind a proxy on PostgreSQL (0: skip)",
    )
    parser.add_argument(
        "--telegram-limits",
        action="store_true",
        help="also run jikimi with the sender at Telegram's default limits (30 msg/s)",
    )
    parser.add_argument("--only", choices=["surge", "outbound", "intake"], help="run one benchmark")
    parser.add_argument(
        "--outbound-messages", type=int, default=450, help="messages the sender must deliver"
    )
    parser.add_argument("--outbound-chats", type=int, default=150, help="private chats they go to")
    parser.add_argument("--workdir", type=Path, help="keep logs and databases here")
    return parser


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def print_surge(results: list[SurgeResult]) -> None:
    """Print the surge table, with each pipeline's throughput as a share of the echo ceiling."""
    ceiling = next((r.throughput for r in results if r.label.startswith("bare")), 0.0)
    header = (
        f"{'surge':<26}{'reports':>8}{'photos':>7}{'rep/s':>8}{'ratio':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'lost':>6}{'dup':>5}{'peak MiB':>10}"
        f"{'CPU s':>9}{'sandbox CPU s':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.throughput / ceiling:.2f}" if ceiling else "-"
        dup = r.duplicated_reports + r.duplicated_answers
        print(
            f"{r.label:<26}{r.citizens:>8}{r.photos:>7}{r.throughput:>8.1f}{ratio:>7}"
            f"{_ms(r.percentile(50)):>8}{_ms(r.percentile(95)):>8}{_ms(r.percentile(99)):>8}"
            f"{r.lost:>6}{dup:>5}{r.peak_rss_mib:>10.0f}{r.bot_cpu_seconds:>9.1f}"
            f"{r.harness_cpu_seconds:>15.1f}"
        )
    print()
    backlogs = [r for r in results if r.citizen_messages is not None]
    _print_backlog(
        "citizens, at the end",
        "all sent",
        [(r, r.citizen_messages, r.citizen_unsent, _seconds(r.replies_seconds)) for r in backlogs],
        "(messages queued for citizens when the last one had the manual, those still unsent,",
        " and when every citizen had every reply, counted from the first send)",
    )
    _print_backlog(
        "staff room, at the end",
        "at 20/min",
        [
            (r, r.staff_messages, r.staff_unsent, f"{(r.staff_unsent or 0) / 20:.1f} m")
            for r in results
            if r.staff_messages is not None
        ],
        "(messages queued for the staff group when the last citizen had the manual; at 20/min:",
        " how long Telegram's group limit takes to deliver those still unsent)",
    )


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _print_backlog(
    title: str,
    last: str,
    rows: list[tuple[SurgeResult, int | None, int | None, str]],
    *notes: str,
) -> None:
    """Print one backlog table: messages queued, per report, still unsent, and ``last``."""
    if not rows:
        return
    header = f"{title:<26}{'messages':>9}{'per report':>11}{'unsent':>8}{last:>11}"
    print(header)
    print("-" * len(header))
    for r, messages, unsent, tail in rows:
        queued = messages or 0
        print(f"{r.label:<26}{queued:>9}{queued / r.citizens:>11.2f}{unsent or 0:>8}{tail:>11}")
    for note in notes:
        print(note)
    print()


async def _surges(args: argparse.Namespace, workdir: Path) -> list[SurgeResult]:
    targets: list[Target] = [EchoTarget()]
    for name in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if name == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'surge.db'}"
            targets.append(JikimiTarget(url, "jikimi on SQLite"))
            if args.telegram_limits:
                limited = f"sqlite+aiosqlite:///{workdir / 'surge-limited.db'}"
                targets.append(
                    JikimiTarget(limited, "jikimi SQLite 30 msg/s", telegram_limits=True)
                )
        elif name == "postgres":
            targets.append(JikimiTarget(args.postgres_url, "jikimi on PostgreSQL"))
            targets.append(JikimiSeparateSenderTarget(args.postgres_url))
            if args.webhook_workers > 0:
                targets.append(
                    JikimiWebhookTarget(
                        args.postgres_url, args.redis_url, workers=args.webhook_workers
                    )
                )
        else:
            raise SystemExit(f"unknown database {name!r}")
    results = []
    for target in targets:
        print(f"surge: {target.label} ...", file=sys.stderr, flush=True)
        results.append(
            await run_surge(
                target,
                citizens=args.citizens,
                rate=args.rate,
                photo_every=args.photo_every,
                workdir=workdir,
            )
        )
    return results


async def _main(args: argparse.Namespace, workdir: Path) -> None:
    started = time.perf_counter()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; offered {args.rate:g} reports/s by "
        f"{args.citizens} citizens; sandbox and citizens on {event_loop.running_loop_name()}"
    )
    print()
    if args.only in (None, "surge"):
        print_surge(await _surges(args, workdir))
    if args.only in (None, "outbound"):
        from benchmarks.outbound import print_outbound, run_outbound

        print(f"outbound: {args.outbound_messages} messages ...", file=sys.stderr, flush=True)
        print_outbound(
            await run_outbound(
                messages=args.outbound_messages,
                chats=args.outbound_chats,
                workdir=workdir,
            )
        )
    if args.only in (None, "intake"):
        from benchmarks.intake import print_intake, run_intakes

        print("intake in process ...", file=sys.stderr, flush=True)
        print_intake(
            await run_intakes(
                citizens=args.citizens,
                databases=[d.strip() for d in args.databases.split(",") if d.strip()],
                postgres_url=args.postgres_url,
                workdir=workdir,
            )
        )
    print(f"total time {time.perf_counter() - started:.0f} s")


def harness_loop() -> EventLoopName:
    """The loop the sandbox and the simulated citizens run on: ``JIKIMI_EVENT_LOOP``'s.

    ``jikimi sandbox`` serves on the same loop. The bots run in their own processes: jikimi's
    on that loop too, the bare echo bot on asyncio's own.
    """
    name = os.environ.get("JIKIMI_EVENT_LOOP", "uvloop")
    if name not in get_args(EventLoopName):
        choices = ", ".join(get_args(EventLoopName))
        raise SystemExit(f"JIKIMI_EVENT_LOOP must be one of {choices}, not {name!r}")
    return cast(EventLoopName, name)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and print the figures."""
    args = build_parser().parse_args(argv)
    loop = harness_loop()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        event_loop.run(_main(args, args.workdir), loop=loop)
        return
    with tempfile.TemporaryDirectory(prefix="jikimi-bench-") as tmp:
        event_loop.run(_main(args, Path(tmp)), loop=loop)


if __name__ == "__main__":
    main()
