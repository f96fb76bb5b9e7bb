"""``jikimi experts import|list`` and ``jikimi export community`` work on a database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import community as community_command
from bot.commands.community import transcript_of
from bot.commands.experts import import_file, list_text
from community.transcript import record_message
from storage.communities import save_community
from storage.models.communities import Community
from tests.community.conftest import HUB, START, Steps


async def test_import_and_list(database_url: str, tmp_path: Path) -> None:
    """An imported CSV shows up in the list; --pending lists only unverified experts."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,organisation,fields\n601,한지훈,서울소방,fire\n602,오수빈,,structural\n",
        encoding="utf-8",
    )
    report = await import_file(database_url, path)
    assert report.startswith("created 2, updated 0, errors 0")
    listing = await list_text(database_url)
    assert "한지훈" in listing and "오수빈" in listing and "verified" in listing
    assert "한지훈" not in await list_text(database_url, pending=True)


async def test_export_community(database_url: str, steps: Steps) -> None:
    """The transcript exports as text and JSON with authors and roles."""
    incident = await steps.incident()
    assert incident.id is not None
    async with steps.tx() as session:
        community = await save_community(
            session=session,
            community=Community(
                incident_id=incident.id,
                hub_chat_id=HUB,
                topic_id=5,
                title="🔥 fire",
                fields=["fire"],
                opened_at=START,
                last_activity_at=START,
            ),
        )
        await record_message(
            session=session,
            community=community,
            message_id=9,
            author_id=42,
            author_name="한지훈",
            author_role="expert",
            kind="text",
            text="배연 필요",
            now=START,
        )
    assert community.id is not None
    text = await transcript_of(database_url, community.id, fmt="text", tz="Asia/Seoul")
    assert "한지훈 (expert): 배연 필요" in text
    assert "2026-11-22 12:00" in text
    document = json.loads(await transcript_of(database_url, community.id, fmt="json", tz="UTC"))
    assert document["messages"][0]["author_role"] == "expert"


def test_cli_reports_a_missing_community(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exporting an unknown community exits with 1 and says so."""
    parser = argparse.ArgumentParser(prog="jikimi")
    community_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", "community", "999", "--database-url", database_url])
    assert args.handler(args) == 1
    assert "no community 999" in capsys.readouterr().out
