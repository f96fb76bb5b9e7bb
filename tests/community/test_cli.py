"""``jikimi experts import|list`` and ``jikimi export community`` work on a database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import community as community_command
from bot.commands import experts as experts_command
from bot.commands.community import transcript_of
from bot.commands.experts import import_file, list_text
from community.transcript import record_message
from storage.communities import save_community
from storage.engine import create_engine, create_session_factory
from storage.experts import list_experts
from storage.models.communities import Community
from tests.community.conftest import HUB, START, Steps


async def test_import_and_list(database_url: str, tmp_path: Path) -> None:
    """An imported CSV shows up in the list; --pending lists only unverified experts."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,organisation,fields\n601,한지훈,서울소방,fire\n602,오수빈,,structural\n",
        encoding="utf-8",
    )
    report, refused = await import_file(database_url, path)
    assert report.startswith("created 2, updated 0, errors 0") and refused == 0
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


async def test_import_reports_bad_lines_in_words(database_url: str, tmp_path: Path) -> None:
    """Refused lines are explained in the operator's language, not as message codes."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,organisation,fields\n601,한지훈,,fire\n6o2,오수빈,,structural\n"
        "603,윤태양,,landslide\n",
        encoding="utf-8",
    )
    report, refused = await import_file(database_url, path)
    assert refused == 2
    assert "line 3: The Telegram ID is not valid. (6o2)" in report
    assert "line 4: Please check the fields. (landslide)" in report
    assert "expert_error" not in report
    korean, _ = await import_file(database_url, path, lang="ko")
    assert "텔레그램 ID가 올바르지 않습니다" in korean


def test_the_import_command_exits_1_when_a_line_is_refused(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron job sees a partial import: the good lines are in, the exit code is 1."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,organisation,fields\n601,한지훈,,fire\n6o2,오수빈,,structural\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser(prog="jikimi")
    experts_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["experts", "import", str(path), "--database-url", database_url])
    assert args.handler(args) == 1
    assert "created 1, updated 0, errors 1" in capsys.readouterr().out


def test_import_of_a_file_without_the_header_says_which_columns_are_missing(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV without ``telegram_user_id`` and ``name`` is refused in words."""
    path = tmp_path / "experts.csv"
    path.write_text("601;한지훈;fire\n", encoding="utf-8")
    parser = argparse.ArgumentParser(prog="jikimi")
    experts_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["experts", "import", str(path), "--database-url", database_url])
    assert args.handler(args) == 1
    said = capsys.readouterr().err
    assert "The CSV header is not valid. (name, telegram_user_id)" in said
    assert "expert_error" not in said


async def test_the_list_is_plain_text_for_a_terminal(database_url: str, tmp_path: Path) -> None:
    """The listing carries no Telegram HTML: no tags, no escaped ampersands."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,organisation,fields\n601,Kim & Lee,,fire\n", encoding="utf-8"
    )
    await import_file(database_url, path)
    listing = await list_text(database_url)
    assert "Kim & Lee" in listing
    assert "<b>" not in listing and "&amp;" not in listing


async def test_import_refuses_a_language_other_than_korean_or_english(
    database_url: str, tmp_path: Path
) -> None:
    """``fr`` or a long word is refused by line; ``EN-us`` is English; empty is Korean."""
    path = tmp_path / "experts.csv"
    path.write_text(
        "telegram_user_id,name,fields,language\n601,Jane,fire,EN-us\n602,Marie,fire,fr\n"
        "603,Hans,fire,deutsch-schweiz\n604,한지훈,fire,\n",
        encoding="utf-8",
    )
    report, refused = await import_file(database_url, path)
    assert refused == 2, report
    assert "line 3: The language must be ko or en. (fr)" in report
    assert "line 4: The language must be ko or en. (deutsch-schweiz)" in report
    korean, _ = await import_file(database_url, path, lang="ko")
    assert "언어는 ko 또는 en" in korean
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            languages = {e.name: e.language for e in await list_experts(session=session)}
    finally:
        await engine.dispose()
    assert languages == {"Jane": "en", "한지훈": "ko"}


def test_import_of_a_file_that_is_not_utf8_says_so_and_imports_nothing(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV saved as CP949 (Excel's Korean default) is refused in words, not a traceback."""
    path = tmp_path / "experts.csv"
    path.write_bytes(
        "telegram_user_id,name,fields\n601,Kim,fire\n602,한지훈,fire\n".encode("cp949")
    )
    parser = argparse.ArgumentParser(prog="jikimi")
    experts_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["experts", "import", str(path), "--database-url", database_url])
    assert args.handler(args) == 1
    said = capsys.readouterr().err
    assert "UTF-8" in said and "Traceback" not in said
    args = parser.parse_args(["experts", "list", "--database-url", database_url])
    args.handler(args)
    assert "Kim" not in capsys.readouterr().out  # the whole file was refused
