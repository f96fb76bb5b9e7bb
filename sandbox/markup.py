"""Reply markup validation: inline keyboards, reply keyboards, remove/force reply."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.params import Params

MAX_BUTTONS = 100
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "pay",
    "callback_game",
    "copy_text",
)


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in INLINE_ACTIONS if button.get(key) is not None]
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not (
        isinstance(url, str) and url.startswith(("http://", "https://", "tg://")) and len(url) > 8
    ):
        raise bad_request("BUTTON_URL_INVALID")
    return {key: value for key, value in button.items() if value is not None}


def _reply_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            "can't parse keyboard button: KeyboardButton must be a String or an Object"
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    return {key: value for key, value in button.items() if value is not None}


def _rows(value: Any, field: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(
            "can't parse reply keyboard markup JSON object: "
            f'field "{field}" must be an Array of Arrays'
        )
    return value


def validate_markup(markup: Any) -> dict[str, Any] | None:
    """Validate and normalise a reply_markup object like Telegram does."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        rows = _rows(markup["inline_keyboard"], "inline_keyboard")
        if sum(len(row) for row in rows) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        return {"inline_keyboard": [[_inline_button(b) for b in row] for row in rows]}
    if "keyboard" in markup:
        rows = _rows(markup["keyboard"], "keyboard")
        result = {key: value for key, value in markup.items() if value is not None}
        result["keyboard"] = [[_reply_button(b) for b in row] for row in rows]
        return result
    if markup.get("remove_keyboard"):
        return {key: value for key, value in markup.items() if value is not None}
    if markup.get("force_reply"):
        return {key: value for key, value in markup.items() if value is not None}
    if not markup:
        return None
    raise bad_request("can't parse reply keyboard markup JSON object")


def markup_param(params: Params) -> dict[str, Any] | None:
    """Read and validate the ``reply_markup`` parameter."""
    raw = params.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    return validate_markup(raw)


def find_callback_button(markup: dict[str, Any] | None, data: str) -> dict[str, Any] | None:
    """Return the inline button carrying ``callback_data == data``."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == data:
                return dict(button)
    return None
