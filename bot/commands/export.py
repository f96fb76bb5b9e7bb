"""``jikimi export incidents --format csv|json``: incidents with their whole timelines."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from situation.export import export_incidents, write_csv, write_json
from storage.engine import create_engine, create_session_factory


def _export_kinds(subparsers: Any) -> Any:
    """Return the sub-commands of ``jikimi export`` (shared with other exports)."""
    existing = subparsers.choices.get("export")
    if existing is None:
        parser = subparsers.add_parser("export", help="export records")
        return parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for action in existing._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the export command has no sub-commands")


def register(subparsers: Any) -> None:
    """Register ``jikimi export incidents`` (beside the other exports)."""
    incidents = _export_kinds(subparsers).add_parser(
        "incidents", help="incidents with their timelines"
    )
    incidents.add_argument("--format", choices=("csv", "json"), default="json")
    incidents.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    incidents.add_argument(
        "--since",
        type=iso_moment,
        help="only incidents opened since this ISO date/time (UTC unless it names a zone)",
    )
    incidents.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    incidents.set_defaults(handler=_incidents)


def iso_moment(text: str) -> datetime:
    """An ISO date or date/time for ``--since``, UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date/time (e.g. 2026-11-21 or 2026-11-21T09:00+09:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _rows(url: str, since: datetime | None) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return await export_incidents(session=session, since=since)
    finally:
        await engine.dispose()


def _incidents(args: argparse.Namespace) -> int:
    rows = asyncio.run(_rows(str(args.database_url or Settings().database_url), args.since))
    write = write_csv if args.format == "csv" else write_json
    if args.output is None:
        write(rows, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as stream:
            write(rows, stream)
        print(f"{len(rows)} incidents written to {args.output}", file=sys.stderr)
    return 0
