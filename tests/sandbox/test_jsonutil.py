"""The sandbox's JSON helpers: copies that share nothing with their source."""

from __future__ import annotations

from sandbox.jsonutil import copy_json, drop_none


def test_copy_json_shares_no_dict_or_list_with_its_source() -> None:
    source = {
        "text": "불이야",
        "entities": [{"type": "bold", "offset": 0, "length": 3}],
        "reply_markup": {"inline_keyboard": [[{"text": "119", "callback_data": "call"}]]},
        "date": 1_700_000_000,
        "edit_date": None,
    }
    copied = copy_json(source)
    assert copied == source
    copied["entities"][0]["length"] = 1
    copied["reply_markup"]["inline_keyboard"][0].append({"text": "x", "callback_data": "y"})
    copied["text"] = "changed"
    assert source["entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    assert len(source["reply_markup"]["inline_keyboard"][0]) == 1
    assert source["text"] == "불이야"


def test_drop_none_keeps_falsy_values() -> None:
    assert drop_none({"a": None, "b": 0, "c": "", "d": False}) == {"b": 0, "c": "", "d": False}
