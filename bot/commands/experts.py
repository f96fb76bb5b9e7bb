"""``jikimi experts``: import and list the expert registry.

jikimi experts import experts.csv      # header: telegram_user_id,name,organisation,fields,...
jikimi experts list [--pending]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings
from community.registry import CSV_COLUMNS, RegistryError, import_csv
from situation.clock import Clock
from situation.limits import plain_text
from situation.texts import render
from storage.engine import create_engine, create_session_factory
from storage.experts import list_experts


def register(subparsers: Any) -> None:
    """Register ``jikimi experts import|list``."""
    parser = subparsers.add_parser("experts", help="the expert registry")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import", help=f"register experts from a CSV file ({','.join(CSV_COLUMNS)})"
    )
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--unverified", action="store_true", help="leave them for a lead to verify"
    )
    importer.add_argument("--lang", default="en", choices=("ko", "en"))
    importer.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    importer.set_defaults(handler=_import)
    lister = actions.add_parser("list", help="list registered experts")
    lister.add_argument("--pending", action="store_true", help="only those waiting for a lead")
    lister.add_argument("--lang", default="en", choices=("ko", "en"))
    lister.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    lister.set_defaults(handler=_list)


def _url(args: argparse.Namespace) -> str:
    return str(args.database_url or Settings().database_url)


def explain(error: RegistryError, lang: str = "en") -> str:
    """The registry's message for ``error`` as plain text, with what it was about."""
    message = plain_text(render(lang, error.code)).strip()
    return f"{message} ({error.detail})" if error.detail else message


async def import_file(
    database_url: str, path: Path, *, verified: bool = True, lang: str = "en"
) -> tuple[str, int]:
    """Import a CSV file into the registry; return the report to print and the lines refused."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            with path.open(encoding="utf-8-sig", newline="") as source:
                result = await import_csv(
                    session=session, source=source, now=Clock().now(), verified=verified
                )
    finally:
        await engine.dispose()
    lines = [f"created {result.created}, updated {result.updated}, errors {len(result.errors)}"]
    lines += [f"  line {line}: {explain(error, lang)}" for line, error in result.errors]
    return "\n".join(lines), len(result.errors)


async def list_text(database_url: str, *, pending: bool = False, lang: str = "en") -> str:
    """Return the registry (or the pending registrations) as text."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            experts = await list_experts(session=session, verified=False if pending else None)
            return plain_text(render(lang, "expert_list", experts=experts))
    finally:
        await engine.dispose()


def _import(args: argparse.Namespace) -> int:
    try:
        report, refused = asyncio.run(
            import_file(_url(args), args.file, verified=not args.unverified, lang=args.lang)
        )
    except OSError as error:
        print(f"cannot import {args.file}: {error}", file=sys.stderr)
        return 1
    except RegistryError as error:
        print(f"cannot import {args.file}: {explain(error, args.lang)}", file=sys.stderr)
        return 1
    print(report)
    return 1 if refused else 0


def _list(args: argparse.Namespace) -> int:
    print(asyncio.run(list_text(_url(args), pending=args.pending, lang=args.lang)))
    return 0
