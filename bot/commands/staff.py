"""``jikimi staff add|list|remove``: register the situation room's staff, leads and admins."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.settings import Settings
from situation import roles
from situation.roster import load_roster
from storage.engine import create_engine, create_session_factory
from storage.models.base import utcnow
from storage.models.staff import StaffRole
from storage.staff import list_staff


def register(subparsers: Any) -> None:
    """Register ``jikimi staff add|list|remove``."""
    parser = subparsers.add_parser("staff", help="situation-room staff and their roles")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a member or change their role/team")
    add.add_argument("user_id", type=int, help="Telegram user id")
    add.add_argument("name")
    add.add_argument("--role", choices=StaffRole.ALL, default=StaffRole.STAFF)
    add.add_argument(
        "--team",
        help="duty roster team, one of the roster file's (see config/roster.example.toml)",
    )
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="list registered members")
    listing.set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="remove a member's rights")
    remove.add_argument("user_id", type=int)
    remove.set_defaults(handler=_remove)
    for action in (add, listing, remove):
        action.add_argument("--database-url", help="override JIKIMI_DATABASE_URL")


def unknown_team(team: str | None, settings: Settings) -> str | None:
    """Say why ``team`` cannot be given to a member, or None when it can (or none is given).

    A team the roster file does not list would never be on duty: that member would never be
    mentioned by a deadline nor handed anything over.
    """
    roster_file = settings.situation_room.roster_file
    if team is None or roster_file is None:
        return None
    teams = load_roster(roster_file).teams
    if team in teams:
        return None
    return f"team {team!r} is not in the roster {roster_file} (its teams: {', '.join(teams)})"


async def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.action == "add" and (problem := unknown_team(args.team, settings)) is not None:
        print(f"jikimi staff add: {problem}", file=sys.stderr)
        return 2
    engine = create_engine(str(args.database_url or settings.database_url))
    try:
        async with create_session_factory(engine)() as session, session.begin():
            if args.action == "add":
                member = await roles.register(
                    session=session,
                    user_id=args.user_id,
                    name=args.name,
                    role=args.role,
                    team=args.team,
                    now=utcnow(),
                )
                print(f"{member.name} ({member.telegram_user_id}) is {member.role}")
            elif args.action == "remove":
                if not await roles.unregister(session=session, user_id=args.user_id, now=utcnow()):
                    print(f"{args.user_id} is not registered")
                    return 1
                print(f"{args.user_id} removed")
            else:
                for member in await list_staff(session=session):
                    print(
                        f"{member.telegram_user_id}\t{member.role}\t{member.team or '-'}\t"
                        f"{member.name}"
                    )
    finally:
        await engine.dispose()
    return 0


def _add(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def _list(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def _remove(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
