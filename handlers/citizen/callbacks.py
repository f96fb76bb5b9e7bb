"""Buttons of the citizen conversation: consent, language, manual pages, scenario, /forget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery

from handlers.common.answers import answer
from situation import citizens, guidance
from situation.callbacks import (
    CallbackError,
    Consent,
    ForgetConfirm,
    LanguageChoice,
    ManualPage,
    ScenarioChoice,
)
from situation.clock import Clock
from situation.file_release import FileReleaser
from situation.intake import ReportListener
from situation.outgoing import Outgoing
from situation.texts import render


def _chat_id(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message else query.from_user.id


async def _drop_buttons(query: CallbackQuery, session: Any, lang: str) -> None:
    """Take the buttons off a one-time question once it is answered (no second answer)."""
    if query.message is not None:
        out = Outgoing(session=session, chat_id=query.message.chat.id, lang=lang)
        await out.drop_buttons(message_id=query.message.message_id)


async def consent(query: CallbackQuery, session: Any, lang: str, clock: Clock) -> None:
    """Record the answer to the privacy notice."""
    try:
        given = Consent.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    await citizens.record_consent(
        session=session,
        user_id=query.from_user.id,
        chat_id=_chat_id(query),
        lang=lang,
        accepted=given.answer == Consent.ACCEPT,
        now=clock.now(),
    )
    await _drop_buttons(query, session, lang)
    await answer(query)


async def language(query: CallbackQuery, session: Any, lang: str, clock: Clock) -> None:
    """Switch the conversation language."""
    try:
        choice = LanguageChoice.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    await citizens.set_language(
        session=session,
        user_id=query.from_user.id,
        chat_id=_chat_id(query),
        lang=choice.lang,
        now=clock.now(),
    )
    await _drop_buttons(query, session, choice.lang)
    await answer(query)


async def manual_page(query: CallbackQuery, session: Any, lang: str) -> None:
    """Show another page of a manual in the same message."""
    try:
        page = ManualPage.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    shown = query.message is not None and await guidance.show_manual_page(
        session=session,
        chat_id=_chat_id(query),
        message_id=query.message.message_id,
        slug=page.slug,
        page=page.page,
        lang=page.lang,
    )
    await answer(query, None if shown else render(lang, "citizen_callback_expired"))


async def scenario(
    query: CallbackQuery,
    session: Any,
    lang: str,
    clock: Clock,
    report_listeners: Sequence[ReportListener] = (),
) -> None:
    """Take the scenario the citizen picked and send its manual."""
    try:
        choice = ScenarioChoice.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    done = await guidance.choose_scenario(
        session=session,
        user_id=query.from_user.id,
        chat_id=_chat_id(query),
        lang=lang,
        report_id=choice.report_id,
        slug=choice.slug,
        now=clock.now(),
        listeners=report_listeners,
    )
    await answer(query, None if done else render(lang, "citizen_callback_expired"))


async def forget(
    query: CallbackQuery, session: Any, lang: str, clock: Clock, file_releaser: FileReleaser
) -> None:
    """Delete the citizen's personal data once they confirmed."""
    try:
        given = ForgetConfirm.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    await citizens.confirm_forget(
        session=session,
        user_id=query.from_user.id,
        chat_id=_chat_id(query),
        lang=lang,
        confirmed=given.answer == "yes",
        releaser=file_releaser,
        now=clock.now(),
    )
    await answer(query)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.filter(F.message.chat.type == "private")
    router.callback_query.register(consent, F.data.startswith(Consent.PREFIX + ":"))
    router.callback_query.register(language, F.data.startswith(LanguageChoice.PREFIX + ":"))
    router.callback_query.register(manual_page, F.data.startswith(ManualPage.PREFIX + ":"))
    router.callback_query.register(scenario, F.data.startswith(ScenarioChoice.PREFIX + ":"))
    router.callback_query.register(forget, F.data.startswith(ForgetConfirm.PREFIX + ":"))
    return router
