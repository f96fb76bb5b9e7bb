"""Expert registration in private: /expert (name, organisation, role, fields), /available, /away."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from community.callbacks import PREFIX, CallbackError, RegistrationChoice
from community.fields import AGENCIES, field_catalogue
from community.outgoing import Buttons, button, edit_text, send_text
from community.registry import Registration, RegistryError, register, set_available
from handlers.common.answers import answer
from situation.clock import Clock
from situation.texts import render
from storage.models.experts import ExpertRole
from storage.models.outbox import Priority

DONE = "done"


class ExpertForm(StatesGroup):
    """The steps of a registration."""

    name = State()
    organisation = State()
    role = State()
    agency = State()
    fields = State()


async def _say(session: Any, chat_id: int, text: str, buttons: Buttons | None = None) -> None:
    await send_text(
        session=session,
        chat_id=chat_id,
        text=text,
        buttons=buttons,
        priority=Priority.CITIZEN_REPLY,
    )


def _role_buttons(lang: str) -> Buttons:
    return [
        [
            button(
                render(lang, "expert_role", role=role), RegistrationChoice(f"role-{role}").pack()
            )
            for role in ExpertRole.ALL
        ]
    ]


def _agency_buttons(lang: str) -> Buttons:
    return [
        [button(render(lang, "expert_agency", agency=a), RegistrationChoice(f"ag-{a}").pack())]
        for a in AGENCIES
    ]


def _field_buttons(lang: str, chosen: list[str]) -> Buttons:
    rows: Buttons = []
    for name in field_catalogue():
        mark = "✅" if name in chosen else "▫️"
        label = f"{mark} {render(lang, 'expert_field', field=name)}"
        rows.append([button(label, RegistrationChoice(f"f-{name}").pack())])
    rows.append([button(render(lang, "expert_reg_button_done"), RegistrationChoice(DONE).pack())])
    return rows


async def start(message: Message, state: FSMContext, session: Any, lang: str) -> None:
    """Start a registration: ask for the name."""
    await state.clear()
    await state.set_state(ExpertForm.name)
    await _say(session, message.chat.id, render(lang, "expert_reg_ask_name"))


async def cancel(message: Message, state: FSMContext, session: Any, lang: str) -> None:
    """Abandon the registration."""
    await state.clear()
    await _say(session, message.chat.id, render(lang, "expert_reg_cancelled"))


async def got_name(message: Message, state: FSMContext, session: Any, lang: str) -> None:
    """Keep the name; ask for the organisation."""
    await state.update_data(name=(message.text or "").strip()[:128])
    await state.set_state(ExpertForm.organisation)
    await _say(session, message.chat.id, render(lang, "expert_reg_ask_org"))


async def got_organisation(message: Message, state: FSMContext, session: Any, lang: str) -> None:
    """Keep the organisation; ask whether they are an expert or an agency liaison."""
    await state.update_data(organisation=(message.text or "").strip()[:128])
    await state.set_state(ExpertForm.role)
    await _say(session, message.chat.id, render(lang, "expert_reg_ask_role"), _role_buttons(lang))


async def _finish(
    query: CallbackQuery,
    state: FSMContext,
    session: Any,
    lang: str,
    settings: Settings,
    clock: Clock,
) -> None:
    data = await state.get_data()
    registration = Registration(
        name=str(data.get("name", "")),
        organisation=str(data.get("organisation", "")),
        fields=list(data.get("fields", [])),
        role=str(data.get("role", ExpertRole.EXPERT)),
        agency=data.get("agency"),
        language=lang,
    )
    try:
        expert = await register(
            session=session,
            telegram_user_id=query.from_user.id,
            registration=registration,
            now=clock.now(),
            staff_chat_id=settings.staff_chat_id,
            staff_lang=settings.default_language,
        )
    except RegistryError as error:
        await answer(query, render(lang, error.code), show_alert=True)
        return
    await state.clear()
    await answer(query)
    await _say(session, query.from_user.id, render(lang, "expert_reg_done", expert=expert))


async def choice(
    query: CallbackQuery,
    state: FSMContext,
    session: Any,
    lang: str,
    settings: Settings,
    clock: Clock,
) -> None:
    """Take a role, agency or field button, or finish the registration."""
    try:
        value = RegistrationChoice.unpack(query.data or "").value
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    chat_id = query.from_user.id
    current = await state.get_state()
    data = await state.get_data()
    if value.startswith("role-") and current == ExpertForm.role.state:
        role = value.removeprefix("role-")
        await state.update_data(role=role, fields=[])
        if role == ExpertRole.AGENCY:
            await state.set_state(ExpertForm.agency)
            await _say(
                session, chat_id, render(lang, "expert_reg_ask_agency"), _agency_buttons(lang)
            )
        else:
            await state.set_state(ExpertForm.fields)
            await _say(
                session,
                chat_id,
                render(lang, "expert_reg_ask_fields", fields=[]),
                _field_buttons(lang, []),
            )
        await answer(query)
        return
    if value.startswith("ag-") and current == ExpertForm.agency.state:
        await state.update_data(agency=value.removeprefix("ag-"))
        await state.set_state(ExpertForm.fields)
        await _say(
            session,
            chat_id,
            render(lang, "expert_reg_ask_fields", fields=[]),
            _field_buttons(lang, []),
        )
        await answer(query)
        return
    if value.startswith("f-") and current == ExpertForm.fields.state:
        name = value.removeprefix("f-")
        chosen = list(data.get("fields", []))
        chosen = [f for f in chosen if f != name] if name in chosen else [*chosen, name]
        chosen = [f for f in field_catalogue() if f in chosen]
        await state.update_data(fields=chosen)
        if query.message is not None:
            await edit_text(
                session=session,
                chat_id=chat_id,
                message_id=query.message.message_id,
                text=render(lang, "expert_reg_ask_fields", fields=chosen),
                buttons=_field_buttons(lang, chosen),
            )
        await answer(query)
        return
    if value == DONE and current == ExpertForm.fields.state:
        if data.get("role") != ExpertRole.AGENCY and not data.get("fields"):
            await answer(query, render(lang, "expert_reg_fields_empty"), show_alert=True)
            return
        await _finish(query, state, session, lang, settings, clock)
        return
    # A button of an earlier step, or of a registration already finished or cancelled.
    await answer(query, render(lang, "citizen_callback_expired"))


async def availability(message: Message, session: Any, lang: str, clock: Clock) -> None:
    """Set oneself available (/available) or away (/away)."""
    available = (message.text or "").lstrip("/").lower().startswith("available")
    if message.from_user is None:
        return
    try:
        expert = await set_available(
            session=session,
            telegram_user_id=message.from_user.id,
            available=available,
            now=clock.now(),
        )
    except RegistryError as error:
        await _say(session, message.chat.id, render(lang, error.code))
        return
    # The registry's language, as the invitations that /available brings back.
    text = render(expert.language, "expert_available" if available else "expert_away")
    await _say(session, message.chat.id, text)


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    # Commands come in text only: a photo captioned "/expert" is a citizen's report.
    router.message.filter(F.chat.type == "private", F.text)
    router.message.register(start, Command("expert"))
    router.message.register(cancel, Command("cancel"), StateFilter(ExpertForm))
    router.message.register(availability, Command("available", "away"))
    router.message.register(got_name, StateFilter(ExpertForm.name), F.text, ~F.text.startswith("/"))
    router.message.register(
        got_organisation, StateFilter(ExpertForm.organisation), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(
        choice, F.data.startswith(f"{PREFIX}:{RegistrationChoice.ACTION}:")
    )
    return router
