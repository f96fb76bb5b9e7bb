"""``jikimi export community ID``: write a community's transcript.

jikimi export community 3                   # plain text on stdout
jikimi export community 3 --format json -o community-3.json
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.settings import Settings
from community.transcript import export_json, export_text
from storage.engine import create_engine, create_session_factory


def register(subparsers: Any) -> None:
    """Register ``jikimi export community``."""
    parser = subparsers.add_parser("export", help="export records")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    community = kinds.add_parser("community", help="a community's transcript")
    community.add_argument("community_id", type=int)
    community.add_argument("--format", choices=("text", "json"), default="text")
    community.add_argument("-o", "--output", type=Path, help="write to a file (default stdout)")
    community.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    community.set_defaults(handler=_export)


async def transcript_of(database_url: str, community_id: int, *, fmt: str, tz: str) -> str:
    """Return a community's transcript as text or JSON."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            if fmt == "json":
                return await export_json(session=session, community_id=community_id)
            return await export_text(session=session, community_id=community_id, tz=tz)
    finally:
        await engine.dispose()


def _export(args: argparse.Namespace) -> int:
    settings = Settings()
    url = str(args.database_url or settings.database_url)
    try:
        text = asyncio.run(
            transcript_of(url, args.community_id, fmt=args.format, tz=settings.timezone)
        )
    except LookupError as error:
        print(error)
        return 1
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
