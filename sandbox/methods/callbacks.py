"""Answers to users' callback queries and inline queries."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.registry import Call, method

EXPIRED = "query is too old and response timeout expired or query ID is invalid"


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    """Answer a button press (toast or alert text, or a URL)."""
    params = call.params
    query_id = params.string("callback_query_id", required=True)
    future = call.world.callback_answers.get(query_id)
    if future is None or future.done():
        raise bad_request(EXPIRED)
    text = params.string("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    future.set_result(
        {
            "answered": True,
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.string("url"),
            "cache_time": params.integer("cache_time", default=0),
        }
    )
    await call.world.notify({"type": "callback_answer", "id": query_id, "text": text})
    return True


@method("answerInlineQuery")
async def answer_inline_query(call: Call) -> bool:
    """Answer an inline query with up to 50 results."""
    params = call.params
    query_id = params.string("inline_query_id", required=True)
    future = call.world.inline_answers.get(query_id)
    if future is None or future.done():
        raise bad_request(EXPIRED)
    results = params.json("results", error="can't parse inline query results JSON object")
    if not isinstance(results, list):
        raise bad_request("results is empty")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict) or "type" not in result or "id" not in result:
            raise bad_request("can't parse InlineQueryResult JSON object")
        result_id = str(result["id"])
        if not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
    answer: dict[str, Any] = {
        "answered": True,
        "results": results,
        "cache_time": params.integer("cache_time", default=300),
        "is_personal": params.flag("is_personal"),
        "next_offset": params.string("next_offset") or "",
        "button": params.json("button"),
    }
    future.set_result(answer)
    await call.world.notify({"type": "inline_answer", "id": query_id})
    return True
