"""A citizen's command, and the words that may follow it.

Usage (a handler, inside the update's transaction)::

    await run_command(session=session, name="help", words=incoming, config=config, now=now)

``words`` is the command's message with the command taken off: "/help people are trapped"
comes as the text message "people are trapped" (an empty text when the command came alone).

A command does its job whatever follows it, and the words after it are not lost: they are
filed as if the citizen had sent them on their own, with the same rules, the same manual and
the same confirmation. Words that call for 119 get the "call 119 now" prompt first, before the
command's answer, whatever the command: nothing comes before that prompt. Then, by command:

- /start, /help, /myreports: the command's answer, then the report's.
- /new: the open report is sealed and the words start the new one.
- /lang: a language after it ("/lang en", "/lang English", "/lang 한국어") is chosen at once;
  other words get the language buttons and are filed.
- /cancel: the open report is cancelled and the words are not filed. After /cancel they say
  why ("/cancel wrong address", "/cancel the fire is out"), and a report of them would open
  again what the citizen just cancelled. The answer says they were not filed, so a citizen who
  meant something new sends it again on its own.
- /forget: the confirmation is asked and the words are neither filed nor stored: the citizen
  asks for their data to be erased. The question says so.

An edited command message is not run again: its words are taken as an edit of the words (see
:func:`edit_command_words`). A command's message is remembered (its id, not its words): edited
into plain words, without the command, it is not filed as a report ("/cancel it was a
mistake" edited into "it was a mistake" stays out; see :func:`situation.edits.receive_edit`).

jikimi hands out no ``t.me/<bot>?start=`` links, so whatever follows /start is the citizen's
words; if start links are ever added, their payloads must be told apart here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from situation import citizens, scenarios
from situation.edits import receive_edit
from situation.intake import (
    IncomingMessage,
    IntakeConfig,
    IntakeResult,
    ReportListener,
    receive_message,
)
from situation.outgoing import Outgoing
from situation.texts import normalise_language
from storage.citizens import find_citizen, remember_command_message
from storage.models.outbox import Priority

START, HELP, LANG, NEW, CANCEL, MY_REPORTS, FORGET = (
    "start",
    "help",
    "lang",
    "new",
    "cancel",
    "myreports",
    "forget",
)
COMMANDS = (START, HELP, LANG, NEW, CANCEL, MY_REPORTS, FORGET)
KEEPS_WORDS_OUT = frozenset({CANCEL, FORGET})

LANGUAGE_NAMES = {
    "korean": "ko",
    "한국어": "ko",
    "한국말": "ko",
    "english": "en",
    "영어": "en",
}
LANGUAGE_CODE = re.compile(r"(ko|kor|en|eng)([-_][a-z]{2})?")


def language_named(words: str) -> str | None:
    """The language the words after /lang name ("en", "en-US", "English", "한국어"), if any."""
    cleaned = words.strip().casefold().rstrip(".!")
    if cleaned in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[cleaned]
    if LANGUAGE_CODE.fullmatch(cleaned):
        return normalise_language(cleaned)
    return None


async def run_command(
    *,
    session: AsyncSession,
    name: str,
    words: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
) -> IntakeResult | None:
    """Do what the citizen's command asks, then file the words after it (see the module).

    Return what intake did with the words, or None when nothing was filed.
    """
    if name not in COMMANDS:
        raise ValueError(f"not a citizen command: {name!r}")
    text = (words.text or "").strip()
    chosen = language_named(text) if name == LANG and text else None
    files = bool(text) and name not in KEEPS_WORDS_OUT and chosen is None
    prompt = scenarios.urgent_prompt(text, words.lang) if text else None
    if prompt is not None:
        out = Outgoing(session=session, chat_id=words.chat_id, lang=words.lang)
        await out.text(prompt, priority=Priority.GUIDANCE)
    # Asked before the command, which may register the citizen: a first message of words is
    # told how long it is kept, as it would be without the command (/start tells it in full).
    first_contact = (
        files
        and name != START
        and await find_citizen(session=session, telegram_user_id=words.user_id) is None
    )
    await _answer(
        session,
        name,
        words,
        config,
        now,
        chosen=chosen,
        words_out=bool(text),
        listeners=listeners,
    )
    await _remember(session, words, now)
    if not files:
        return None
    return await receive_message(
        session=session,
        message=replace(words, kind="text", text=text),
        config=config,
        now=now,
        listeners=listeners,
        prompted=prompt is not None,
        first_contact=first_contact,
    )


async def _remember(session: AsyncSession, words: IncomingMessage, now: datetime) -> None:
    """Record the command's message, so that an edit of it into plain words files nothing."""
    citizen = await find_citizen(session=session, telegram_user_id=words.user_id)
    if citizen is not None and citizen.id is not None:
        await remember_command_message(
            session=session, citizen_id=citizen.id, message_id=words.message_id, now=now
        )


async def edit_command_words(
    *,
    session: AsyncSession,
    name: str,
    words: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    listeners: Sequence[ReportListener] = (),
) -> IntakeResult | None:
    """Take the words of an edited command message as an edit of those words.

    The command is not run again. Words the command keeps out (after /cancel or /forget, a
    language after /lang) stay out, though urgent ones still get the "call 119 now" prompt;
    an edit that leaves no words changes nothing. Return what intake did, or None.
    """
    if name not in COMMANDS:
        raise ValueError(f"not a citizen command: {name!r}")
    text = (words.text or "").strip()
    if not text:
        return None
    if name in KEEPS_WORDS_OUT or (name == LANG and language_named(text) is not None):
        prompt = scenarios.urgent_prompt(text, words.lang)
        if prompt is not None:
            out = Outgoing(session=session, chat_id=words.chat_id, lang=words.lang)
            await out.text(prompt, priority=Priority.GUIDANCE)
        return None
    return await receive_edit(
        session=session,
        message=replace(words, kind="text", text=text),
        config=config,
        now=now,
        listeners=listeners,
        words_of_command=True,
    )


async def _answer(
    session: AsyncSession,
    name: str,
    words: IncomingMessage,
    config: IntakeConfig,
    now: datetime,
    *,
    chosen: str | None,
    words_out: bool,
    listeners: Sequence[ReportListener] = (),
) -> None:
    """Queue the command's own answer (``words_out``: words came after it)."""
    user_id, chat_id, lang = words.user_id, words.chat_id, words.lang
    if name == START:
        await citizens.start(
            session=session,
            user_id=user_id,
            chat_id=chat_id,
            lang=lang,
            now=now,
            retention_days=config.retention_days,
        )
    elif name == HELP:
        await Outgoing(session=session, chat_id=chat_id, lang=lang).message("citizen_help")
    elif name == LANG and chosen is not None:
        await citizens.set_language(
            session=session, user_id=user_id, chat_id=chat_id, lang=chosen, now=now
        )
    elif name == LANG:
        await citizens.ask_language(session=session, chat_id=chat_id, lang=lang)
    elif name == NEW:
        await citizens.new_report(
            session=session, user_id=user_id, chat_id=chat_id, lang=lang, config=config, now=now
        )
    elif name == CANCEL:
        await citizens.cancel_report(
            session=session,
            user_id=user_id,
            chat_id=chat_id,
            lang=lang,
            config=config,
            now=now,
            words=words_out,
            listeners=listeners,
        )
    elif name == MY_REPORTS:
        await citizens.list_reports(
            session=session, user_id=user_id, chat_id=chat_id, lang=lang, now=now
        )
    else:
        await citizens.ask_forget(session=session, chat_id=chat_id, lang=lang, words=words_out)
