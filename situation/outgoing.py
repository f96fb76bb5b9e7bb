"""Messages to a citizen, rendered from the catalogue and queued in the outbox in order.

Usage (inside the update's transaction)::

    out = Outgoing(session=session, chat_id=user_id, lang="ko")
    await out.message("citizen_filed", reference="R-20261122-0042")
    await out.message("citizen_ask_where", keyboard=location_keyboard("ko"))

Rows of one chat are delivered in the order they were queued; the sender sends them after
commit, so nothing is acknowledged before what the citizen sent is stored.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from situation.limits import TEXT_LIMIT, clip_html, split_html
from situation.texts import render
from storage.models.outbox import OutboxCreate, Priority
from storage.outbox import enqueue_batched

Buttons = list[list[dict[str, str]]]


def button(text: str, data: str) -> dict[str, str]:
    """Return one inline button."""
    return {"text": text, "data": data}


def location_keyboard(lang: str) -> dict[str, Any]:
    """Return the reply keyboard that asks for the location, with a skip button."""
    return {
        "keyboard": [
            [{"text": render(lang, "citizen_button_send_location"), "request_location": True}],
            [{"text": render(lang, "citizen_button_skip")}],
        ],
        "one_time": True,
        "resize": True,
    }


def skip_keyboard(lang: str) -> dict[str, Any]:
    """Return the reply keyboard with only the skip button."""
    return {
        "keyboard": [[{"text": render(lang, "citizen_button_skip")}]],
        "one_time": True,
        "resize": True,
    }


REMOVE_KEYBOARD: dict[str, Any] = {"remove": True}


class Outgoing:
    """Queue the replies of one update to one citizen chat."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        chat_id: int,
        lang: str,
        priority: int = Priority.CITIZEN_REPLY,
    ) -> None:
        self.session = session
        self.chat_id = chat_id
        self.lang = lang
        self.priority = priority
        self.names: list[str] = []
        self._remove_keyboard = False

    @property
    def count(self) -> int:
        """How many messages were queued (one cut into parts counts once)."""
        return len(self.names)

    def remove_keyboard(self) -> None:
        """Remove the reply keyboard with the next message that has no inline buttons."""
        self._remove_keyboard = True

    async def message(
        self,
        name: str,
        *,
        buttons: Buttons | None = None,
        keyboard: dict[str, Any] | None = None,
        priority: int | None = None,
        **context: Any,
    ) -> None:
        """Render catalogue message ``name`` in the citizen's language and queue it."""
        text = render(self.lang, name, **context)
        await self.text(text, buttons=buttons, keyboard=keyboard, priority=priority)
        self.names[-1] = name

    async def text(
        self,
        text: str,
        *,
        buttons: Buttons | None = None,
        keyboard: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> None:
        """Queue already rendered HTML text, in parts if too long for one message.

        Buttons or a keyboard go with the last part. ``priority`` overrides the chat's for this
        message (``Priority.GUIDANCE`` for a manual).
        """
        *firsts, last = split_html(text, TEXT_LIMIT)
        for part in firsts:
            self._queue({"text": part}, priority)
        payload: dict[str, Any] = {"text": last}
        if buttons:
            payload["buttons"] = buttons
        elif keyboard is not None:
            payload["reply_keyboard"] = keyboard
            if keyboard.get("remove"):
                self._remove_keyboard = False
        elif self._remove_keyboard:
            payload["reply_keyboard"] = REMOVE_KEYBOARD
            self._remove_keyboard = False
        self._queue(payload, priority)
        self.names.append("")

    def _queue(self, payload: dict[str, Any], priority: int | None) -> None:
        enqueue_batched(
            session=self.session,
            message=OutboxCreate(
                chat_id=self.chat_id,
                kind="text",
                payload=payload,
                priority=self.priority if priority is None else priority,
            ),
        )

    async def edit(self, *, message_id: int, text: str, buttons: Buttons | None = None) -> None:
        """Queue an edit of a message the bot sent earlier in this chat (cut to fit one)."""
        payload: dict[str, Any] = {"message_id": message_id, "text": clip_html(text, TEXT_LIMIT)}
        if buttons:
            payload["buttons"] = buttons
        enqueue_batched(
            session=self.session,
            message=OutboxCreate(
                chat_id=self.chat_id, kind="edit_text", payload=payload, priority=self.priority
            ),
        )
        self.names.append("edit")

    async def drop_buttons(self, *, message_id: int) -> None:
        """Queue the removal of a message's inline buttons (a choice made once, like a language)."""
        enqueue_batched(
            session=self.session,
            message=OutboxCreate(
                chat_id=self.chat_id,
                kind="edit_markup",
                payload={"message_id": message_id},
                priority=self.priority,
            ),
        )

    async def flush_keyboard_removal(self) -> None:
        """Send a short note that removes the reply keyboard if a removal is still pending."""
        if self._remove_keyboard:
            await self.message("citizen_keyboard_closed", keyboard=REMOVE_KEYBOARD)
