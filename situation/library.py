"""The manual library: ``/manual`` browsing by category and by word, and inline-mode cards."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from manuals.render import Listing, ManualCard, get_renderer
from situation.callbacks import ManualBrowse
from situation.intake import send_manual
from situation.outgoing import Buttons, Outgoing, button
from situation.texts import render

INLINE_LIMIT = 10


def _buttons(listing: Listing, kind: str, lang: str, *, back: bool) -> Buttons:
    items = [
        button(item.label, ManualBrowse(kind, item.key, lang).pack()) for item in listing.items
    ]
    rows = [items[i : i + 2] for i in range(0, len(items), 2)]
    if back:
        rows.append(
            [
                button(
                    render(lang, "citizen_button_library_back"), ManualBrowse("t", "", lang).pack()
                )
            ]
        )
    return rows


def _listing(query: str, lang: str) -> tuple[Listing, str]:
    renderer = get_renderer()
    if query.strip():
        return renderer.search_listing(query.strip(), lang), "s"
    return renderer.list_categories(lang), "c"


async def show_library(*, session: AsyncSession, chat_id: int, lang: str, query: str) -> None:
    """Queue the library: the categories, or the manuals matching ``query``."""
    listing, kind = _listing(query, lang)
    out = Outgoing(session=session, chat_id=chat_id, lang=lang)
    await out.text(listing.text, buttons=_buttons(listing, kind, lang, back=bool(query.strip())))


async def open_library_entry(
    *, session: AsyncSession, chat_id: int, message_id: int, entry: ManualBrowse
) -> bool:
    """Follow a library button: list a category in place, or send a manual; False if unknown."""
    out = Outgoing(session=session, chat_id=chat_id, lang=entry.lang)
    renderer = get_renderer()
    if entry.kind == "s":
        return await send_manual(out, entry.key)
    if entry.kind == "c":
        try:
            listing = renderer.list_category(entry.key, entry.lang)
        except KeyError:
            return False
        await out.edit(
            message_id=message_id,
            text=listing.text,
            buttons=_buttons(listing, "s", entry.lang, back=True),
        )
        return True
    listing = renderer.list_categories(entry.lang)
    await out.edit(
        message_id=message_id,
        text=listing.text,
        buttons=_buttons(listing, "c", entry.lang, back=False),
    )
    return True


def inline_manual_cards(query: str, lang: str) -> list[ManualCard]:
    """Return the shareable manual cards for an inline query (urgent ones when it is empty)."""
    return get_renderer().inline_cards(query, lang)[:INLINE_LIMIT]
