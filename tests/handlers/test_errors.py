"""The errors router keeps any failed update as JSON."""

from __future__ import annotations

from aiogram.types import Update

from handlers.common.errors import update_payload


def test_an_update_with_aiogram_placeholders_is_kept_as_json() -> None:
    """A callback's message carries ``Default`` placeholders; they are kept as null."""
    update = Update.model_validate(
        {
            "update_id": 5,
            "callback_query": {
                "id": "1",
                "from": {"id": 9, "is_bot": False, "first_name": "A"},
                "chat_instance": "x",
                "data": "st:1",
                "message": {
                    "message_id": 3,
                    "date": 1_700_000_000,
                    "chat": {"id": 9, "type": "private"},
                    "text": "card",
                    "link_preview_options": {"is_disabled": True},
                },
            },
        }
    )
    payload = update_payload(update)
    options = payload["callback_query"]["message"]["link_preview_options"]
    assert options == {
        "is_disabled": True,
        "prefer_small_media": None,
        "prefer_large_media": None,
        "show_above_text": None,
    }
    assert payload["callback_query"]["data"] == "st:1"
