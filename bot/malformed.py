"""Updates aiogram cannot read: read one at a time, the unreadable ones kept, never a stall.

aiogram reads a whole getUpdates batch, or a webhook request, into its ``Update`` model; one
update in a shape it does not accept (a field Telegram added, one it left out) failed the whole
batch, and polling asked for the same batch again forever. :func:`read_update` reads a single
update: an unreadable one becomes a :class:`MalformedUpdate`, an ``Update`` with only its id
that carries the raw JSON along. It then goes through the dispatcher like any other update
(admission, one transaction, the processed-update claim) to the middleware that keeps it
(``bot.middlewares.malformed``).

Usage::

    update = read_update(raw, bot)          # an Update, or a MalformedUpdate
    if isinstance(update, MalformedUpdate):
        update.payload, update.problem, private_writer(update.payload)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from pydantic import PrivateAttr, ValidationError

log = logging.getLogger(__name__)

# Field paths named in a log line; the rest are counted.
LOGGED_PROBLEMS = 3


class MalformedUpdate(Update):
    """An update that could not be read: its id, its raw JSON and what was wrong with it."""

    _payload: dict[str, Any] = PrivateAttr(default_factory=dict)
    _problem: str = PrivateAttr(default="")
    _fields: str = PrivateAttr(default="")

    @classmethod
    def of(
        cls, update_id: int, payload: dict[str, Any], error: ValidationError, bot: Bot
    ) -> MalformedUpdate:
        """Stand for the unreadable ``payload`` (the update numbered ``update_id``)."""
        update = cls.model_validate({"update_id": update_id}, context={"bot": bot})
        update._payload = payload
        update._problem = problem_of(error)
        update._fields = fields_of(error)
        return update

    @property
    def payload(self) -> dict[str, Any]:
        """The update's JSON as it arrived."""
        return self._payload

    @property
    def problem(self) -> str:
        """What was wrong, field by field (the values left out)."""
        return self._problem

    @property
    def fields(self) -> str:
        """The paths of the fields that were wrong, safe to log."""
        return self._fields


def read_update(raw: Any, bot: Bot) -> Update | None:
    """Read one update for ``bot``: an ``Update``, a :class:`MalformedUpdate`, or None.

    None only for an item without an integer ``update_id``: it cannot be told apart from
    others, confirmed or claimed (the Bot API numbers every update), so it is logged and
    dropped.
    """
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except ValidationError as error:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not _is_int(update_id):
            log.error("an update without an id could not be read: dropped (%s)", fields_of(error))
            return None
        assert isinstance(raw, dict) and isinstance(update_id, int)
        return MalformedUpdate.of(update_id, raw, error, bot)


def problem_of(error: ValidationError) -> str:
    """Describe a validation error field by field, without the values it was given."""
    return "; ".join(
        f"{_path(item['loc'])}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    )


def fields_of(error: ValidationError) -> str:
    """Name the first fields a validation error is about, and their kind of fault only."""
    items = error.errors(include_url=False, include_input=False, include_context=False)
    named = ", ".join(f"{_path(item['loc'])} ({item['type']})" for item in items[:LOGGED_PROBLEMS])
    more = len(items) - LOGGED_PROBLEMS
    return f"{named} and {more} more" if more > 0 else named


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "update"


@dataclass(frozen=True)
class Writer:
    """Who wrote a message, as far as its raw JSON tells: the private chat and its language."""

    chat_id: int
    user_id: int
    language_code: str | None


def private_writer(payload: dict[str, Any]) -> Writer | None:
    """The private chat a new message in ``payload`` came from, if its JSON says so.

    Only a new message counts: an edit (a live location moves every few seconds) is kept
    without an answer.
    """
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private" or not _is_int(chat.get("id")):
        return None
    sender = message.get("from")
    sender = sender if isinstance(sender, dict) else {}
    if sender.get("is_bot") is True:
        return None
    chat_id: int = chat["id"]
    user_id: int = sender["id"] if _is_int(sender.get("id")) else chat_id
    code = sender.get("language_code")
    return Writer(chat_id, user_id, code if isinstance(code, str) else None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
