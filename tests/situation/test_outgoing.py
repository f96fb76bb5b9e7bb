"""Messages to a citizen: a text too long for one message goes out in parts Telegram accepts."""

from __future__ import annotations

from sandbox.html_entities import format_text
from situation.limits import CUT, TEXT_LIMIT, utf16_len
from situation.outgoing import Outgoing, skip_keyboard
from situation.texts import render
from tests.situation.conftest import Steps

CITIZEN = 501
# A staff note of 3,700 characters but about 4,500 UTF-16 units (emoji count twice), with
# characters that HTML escapes.
NOTE = ("🔥🚒🧯 잔불 & <확인> " * 300)[:3700]


def shown(html: str) -> str:
    """The text Telegram shows for ``html`` (the sandbox refuses invalid HTML like Telegram)."""
    return format_text(html, "HTML")[0]


async def test_a_long_text_goes_out_in_parts_with_the_keyboard_on_the_last(steps: Steps) -> None:
    html = render("ko", "citizen_incident_closed", reference="R-20261122-0042", note=NOTE)
    assert utf16_len(shown(html)) > TEXT_LIMIT >= len(shown(html))  # too long in UTF-16 only
    async with steps.tx() as session:
        out = Outgoing(session=session, chat_id=CITIZEN, lang="ko")
        await out.text(html, keyboard=skip_keyboard("ko"))
        assert out.count == 1

    rows = await steps.outbox(CITIZEN)
    assert len(rows) == 2
    texts = [shown(row["text"]) for row in rows]
    assert all(utf16_len(text) <= TEXT_LIMIT for text in texts)
    assert "reply_keyboard" not in rows[0] and "reply_keyboard" in rows[1]
    said = "".join(text.removeprefix(CUT).removesuffix(CUT) for text in texts)
    assert "".join(said.split()) == "".join(shown(html).split())


async def test_an_edit_too_long_for_one_message_is_cut_within_the_markup(steps: Steps) -> None:
    html = "<b>목록</b>\n" + "\n".join(f"<code>R-{n}</code> 🔥 &amp; 대피" for n in range(500))
    async with steps.tx() as session:
        await Outgoing(session=session, chat_id=CITIZEN, lang="ko").edit(message_id=7, text=html)

    (row,) = await steps.outbox(CITIZEN)
    assert row["kind"] == "edit_text" and row["message_id"] == 7
    text = shown(row["text"])
    assert TEXT_LIMIT - 100 < utf16_len(text) <= TEXT_LIMIT and text.endswith(CUT)
    assert shown(html).startswith(text.removesuffix(CUT).rstrip())
