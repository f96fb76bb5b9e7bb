"""Leads verify registrations in the staff supergroup: /experts [pending|all] and the buttons."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from community.access import is_lead, is_staff
from community.callbacks import PREFIX, CallbackError, VerifyExpert
from community.lookup import registered_experts
from community.outgoing import edit_text, send_text
from community.registry import RegistryError, pending, verify, verify_buttons
from handlers.common.answers import answer
from situation.clock import Clock
from situation.texts import render
from storage.models.staff import StaffMember

MAX_CARDS = 10


def _in_staff_chat(event: Message | CallbackQuery, settings: Settings) -> bool:
    if isinstance(event, Message):
        chat_id: int | None = event.chat.id
    else:
        chat_id = event.message.chat.id if event.message is not None else None
    return chat_id is not None and chat_id == settings.staff_chat_id


async def experts_command(
    message: Message, command: CommandObject, session: Any, settings: Settings, role: str | None
) -> None:
    """List pending registrations with verify buttons (``/experts all`` lists everyone)."""
    lang = settings.default_language
    thread = message.message_thread_id
    if not is_staff(role):
        return
    if (command.args or "").strip() == "all":
        text = render(lang, "expert_list", experts=await registered_experts(session=session))
        await send_text(session=session, chat_id=message.chat.id, thread_id=thread, text=text)
        return
    waiting = list(await pending(session=session))
    if not waiting:
        await send_text(
            session=session,
            chat_id=message.chat.id,
            thread_id=thread,
            text=render(lang, "expert_pending_none"),
        )
        return
    await send_text(
        session=session,
        chat_id=message.chat.id,
        thread_id=thread,
        text=render(lang, "expert_pending_list", experts=waiting),
    )
    for expert in waiting[:MAX_CARDS]:
        await send_text(
            session=session,
            chat_id=message.chat.id,
            thread_id=thread,
            text=render(lang, "expert_pending_notice", expert=expert),
            buttons=verify_buttons(expert, lang),
        )


async def verify_button(
    query: CallbackQuery,
    session: Any,
    settings: Settings,
    clock: Clock,
    lang: str,
    role: str | None,
    staff_member: StaffMember | None,
) -> None:
    """Verify or reject a registration (leads only)."""
    if _in_staff_chat(query, settings) and staff_member is not None:
        lang = settings.default_language  # anyone else reads their own language
    if staff_member is None or not _in_staff_chat(query, settings) or not is_lead(role):
        await answer(query, render(lang, "community_error_not_allowed"), show_alert=True)
        return
    try:
        action = VerifyExpert.unpack(query.data or "")
    except CallbackError:
        await answer(query, render(lang, "citizen_callback_expired"))
        return
    approve = action.answer == "yes"
    try:
        expert = await verify(
            session=session,
            expert_id=action.expert_id,
            verifier_id=staff_member.telegram_user_id,
            approve=approve,
            now=clock.now(),
        )
    except RegistryError as error:
        await answer(query, render(lang, error.code), show_alert=True)
        return
    if query.message is not None:
        await edit_text(
            session=session,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text=render(
                lang,
                "expert_verified_staff",
                expert=expert,
                verifier=staff_member.name,
                approve=approve,
            ),
        )
    await answer(query, render(lang, "community_done"))


def get_router() -> Router:
    """Build this module's router (a fresh one per dispatcher)."""
    router = Router(name=__name__)
    # Commands come in text only: a photo captioned "/experts" is a photo.
    router.message.register(
        experts_command, F.text, Command("experts"), F.chat.type == "supergroup"
    )
    router.callback_query.register(
        verify_button, F.data.startswith(f"{PREFIX}:{VerifyExpert.ACTION}:")
    )
    return router
