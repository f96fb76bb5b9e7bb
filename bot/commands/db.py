"""``jikimi db``: database migrations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage import migrate
from storage.engine import is_sqlite


def register(subparsers: Any) -> None:
    """Register ``jikimi db upgrade|downgrade|current``."""
    parser = subparsers.add_parser("db", help="database migrations (alembic)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="upgrade the database to a revision")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    upgrade.set_defaults(handler=_upgrade)
    downgrade = actions.add_parser("downgrade", help="downgrade the database to a revision")
    downgrade.add_argument("revision")
    downgrade.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    downgrade.set_defaults(handler=_downgrade)
    current = actions.add_parser("current", help="print the database's revision")
    current.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")
    current.set_defaults(handler=_current)


def _url(args: argparse.Namespace) -> str:
    return str(args.database_url or Settings().database_url)


def _upgrade(args: argparse.Namespace) -> int:
    asyncio.run(migrate.upgrade(_url(args), args.revision))
    print(f"database upgraded to {args.revision}")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    asyncio.run(migrate.downgrade(_url(args), args.revision))
    print(f"database downgraded to {args.revision}")
    return 0


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (opening it would create it), else None."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def _current(args: argparse.Namespace) -> int:
    url = _url(args)
    if (missing := missing_sqlite_file(url)) is not None:
        print(
            f"jikimi db current: no database at {missing} (check JIKIMI_DATABASE_URL; "
            "`jikimi db upgrade` creates it)",
            file=sys.stderr,
        )
        return 1
    print(asyncio.run(migrate.current(url)) or "(empty database)")
    return 0
