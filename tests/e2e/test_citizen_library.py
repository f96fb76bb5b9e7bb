"""End to end: /manual browses the library by category and by word; inline mode shares cards."""

from __future__ import annotations

from tests.e2e.citizen_helpers import bot_messages
from tests.e2e.conftest import E2E


def _buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_manual_browses_categories_then_opens_a_manual(app: E2E) -> None:
    citizen = await app.citizen("도서관", "ko")
    await app.client.send_text(citizen.id, citizen.id, "/manual")
    await app.settle()
    [listing] = await bot_messages(app, citizen.id)
    categories = _buttons(listing)
    assert len(categories) == 4
    daily = next(b for b in categories if "생활" in b["text"])

    await app.client.press_button(
        citizen.id, citizen.id, listing["message_id"], daily["callback_data"]
    )
    await app.settle()
    [listing] = await bot_messages(app, citizen.id)  # edited in place
    cpr = next(b for b in _buttons(listing) if "심폐소생술" in b["text"])

    await app.client.press_button(
        citizen.id, citizen.id, listing["message_id"], cpr["callback_data"]
    )
    await app.settle()
    manual = (await bot_messages(app, citizen.id))[-1]
    assert "심폐소생술" in manual["text"]
    assert "119" in manual["text"]


async def test_manual_searches_by_word(app: E2E) -> None:
    citizen = await app.citizen("Search", "en")
    await app.client.send_text(citizen.id, citizen.id, "/manual earthquake")
    await app.settle()
    [listing] = await bot_messages(app, citizen.id)
    labels = [b["text"] for b in _buttons(listing)]
    assert any("Earthquake" in label for label in labels)


async def test_inline_query_returns_shareable_manual_cards(app: E2E) -> None:
    citizen = await app.citizen("인라인", "ko")
    answer = await app.client.inline_query(citizen.id, "지진", bot_token=app.token)
    results = answer["results"]
    assert results, answer
    first = results[0]
    assert first["type"] == "article"
    assert "지진" in first["title"]
    assert "지진" in first["input_message_content"]["message_text"]
