"""Citizen commands and the words after them: the command's answer, then the words' report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from situation.citizen_commands import edit_command_words, language_named, run_command
from situation.intake import IncomingMessage, IntakeResult
from storage.models.citizens import Citizen
from storage.models.reports import Report, ReportMessage
from tests.situation.conftest import START, Steps, texts


async def command(
    steps: Steps, user: int, name: str, words: str = "", *, lang: str = "en", seconds: int = 0
) -> IntakeResult | None:
    message = IncomingMessage(
        user_id=user, chat_id=user, message_id=steps.next_id(), lang=lang, kind="text", text=words
    )
    async with steps.tx() as session:
        return await run_command(
            session=session,
            name=name,
            words=message,
            config=steps.config,
            now=START + timedelta(seconds=seconds),
        )


@pytest.mark.parametrize(
    ("words", "lang"),
    [
        ("en", "en"),
        ("EN-us", "en"),
        ("English", "en"),
        ("영어", "en"),
        ("ko", "ko"),
        ("kor", "ko"),
        ("한국어.", "ko"),
        ("english please", None),
        ("de", None),
        ("불이 났어요", None),
    ],
)
def test_language_named(words: str, lang: str | None) -> None:
    assert language_named(words) == lang


async def test_a_bare_command_files_nothing(steps: Steps) -> None:
    assert await command(steps, 6001, "help") is None
    assert texts(await steps.outbox(6001))[0].startswith("<b>How to report</b>")
    async with steps.tx() as session:
        assert (await session.exec(select(Report))).all() == []


async def test_urgent_words_are_prompted_once_and_first_even_on_an_urgent_report(
    steps: Steps,
) -> None:
    user = 6002
    await steps.send(user, text="people are trapped in the lift", lang="en")
    before = len(await steps.outbox(user))
    result = await command(steps, user, "help", "still trapped, smoke now", seconds=5)
    assert result is not None and result.report_id is not None
    answers = texts(await steps.outbox(user))[before:]
    assert "Call 119 now" in answers[0] and "How to report" in answers[1]
    assert sum("Call 119 now" in text for text in answers) == 1
    async with steps.tx() as session:
        (report,) = (await session.exec(select(Report))).all()
    assert report.text == "people are trapped in the lift\nstill trapped, smoke now"


async def test_urgent_words_after_forget_are_prompted_but_not_stored(steps: Steps) -> None:
    user = 6003
    assert await command(steps, user, "forget", "my neighbour's house is on fire") is None
    first, question = await steps.outbox(user)
    assert "Call 119 now" in first["text"]
    assert "was not stored" in question["text"] and question["buttons"]
    async with steps.tx() as session:
        assert (await session.exec(select(Citizen))).all() == []
        assert (await session.exec(select(ReportMessage))).all() == []


async def test_a_language_after_lang_is_chosen_and_not_filed(steps: Steps) -> None:
    user = 6004
    assert await command(steps, user, "lang", "한국어") is None
    (answer,) = texts(await steps.outbox(user))
    assert "한국어로 안내합니다" in answer
    async with steps.tx() as session:
        citizen = (await session.exec(select(Citizen))).one()
        assert citizen.language == "ko"
        assert (await session.exec(select(Report))).all() == []


async def test_an_unknown_command_is_refused(steps: Steps) -> None:
    with pytest.raises(ValueError, match="not a citizen command"):
        await command(steps, 6005, "expert", "words")


async def edited(steps: Steps, user: int, name: str, words: str, message_id: int) -> None:
    message = IncomingMessage(
        user_id=user, chat_id=user, message_id=message_id, lang="en", kind="text", text=words
    )
    async with steps.tx() as session:
        await edit_command_words(
            session=session, name=name, words=message, config=steps.config, now=START
        )


async def test_an_edited_command_is_not_run_again_and_keeps_its_words_out(steps: Steps) -> None:
    user = 6006
    await edited(steps, user, "help", "", 900)
    await edited(steps, user, "lang", "ko", 901)
    assert await steps.outbox(user) == []
    await edited(steps, user, "forget", "smoke everywhere, delete me", 902)
    (prompt,) = await steps.outbox(user)
    assert "Call 119 now" in prompt["text"]
    async with steps.tx() as session:
        assert (await session.exec(select(Citizen))).all() == []


async def test_an_edited_command_adding_words_files_them(steps: Steps) -> None:
    user = 6007
    assert await command(steps, user, "myreports") is None
    await edited(steps, user, "myreports", "a tree fell across the road", 903)
    async with steps.tx() as session:
        (report,) = (await session.exec(select(Report))).all()
    assert report.text == "a tree fell across the road"
