"""Citizen commands in private: /start, /help, /lang, /new, /cancel, /myreports, /forget.

Words after a command are not lost: the command does its job and the words are filed as if
sent alone ("call 119 now" first when they are urgent). Two commands keep them out and say so:
words after /cancel say why it is cancelled and are not filed as a new report; words after
/forget are not stored, since the citizen asks to be erased. A language after /lang is chosen
at once. The rules, command by command, are in :mod:`situation.citizen_commands`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.settings import Settings
from handlers.citizen.convert import command_words, intake_config
from situation.citizen_commands import COMMANDS, edit_command_words, run_command
from situation.clock import Clock
from situation.intake import ReportListener
from situation.outgoing import Outgoing


async def known_command(
    message: Message,
    command: CommandObject,
    session: Any,
    settings: Settings,
    lang: str,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
) -> None:
    """Do what the citizen's command asks and file the words after it (not after /cancel or
    /forget, whose answers say the words were kept out)."""
    await run_command(
        session=session,
        name=command.command,
        words=command_words(message, command.args, lang=lang),
        config=intake_config(settings),
        now=clock.now(),
        listeners=report_listeners,
    )


async def edited_command(
    message: Message,
    command: CommandObject,
    session: Any,
    settings: Settings,
    lang: str,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
) -> None:
    """Take an edited command's words as an edit of those words (the command is not rerun)."""
    await edit_command_words(
        session=session,
        name=command.command,
        words=command_words(message, command.args, lang=lang),
        config=intake_config(settings),
        now=clock.now(),
        listeners=report_listeners,
    )


async def unknown_command(message: Message, session: Any, lang: str) -> None:
    """Answer an unknown command with the help text."""
    await Outgoing(session=session, chat_id=message.chat.id, lang=lang).message("citizen_help")


def bare(text: str) -> bool:
    """Whether a command comes alone, without words after it."""
    return len(text.split(maxsplit=1)) == 1


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    # Every handler here answers a command, and commands come in text only: a caption is part
    # of a report (a photo captioned "/help" is a photo). A report skips the two filters in one.
    router.message.filter(F.chat.type == "private", F.text.startswith("/"))
    router.message.register(known_command, Command(*COMMANDS))
    router.edited_message.filter(F.chat.type == "private", F.text.startswith("/"))
    router.edited_message.register(edited_command, Command(*COMMANDS))
    # "/119 people trapped in the lift" is a report of those words: it passes to the reports.
    router.message.register(unknown_command, F.text.func(bare))
    return router
