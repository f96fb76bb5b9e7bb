"""Community outbox rows: a long text goes out in parts, an edit and a caption are cut to fit,
never inside the markup."""

from __future__ import annotations

from community.outgoing import button, edit_text, send_photo, send_text
from sandbox.html_entities import format_text
from situation.limits import CAPTION_LIMIT, CUT, TEXT_LIMIT, utf16_len
from tests.community.conftest import HUB, Steps

DECISIONS = "<b>결정 사항</b>\n" + "\n".join(
    f'• <a href="tg://user?id={n}">전문가 {n} 🧑\u200d🚒</a>: 대피 &amp; 통제 🔥'
    for n in range(200)
)


def shown(html: str) -> str:
    """The text Telegram shows for ``html`` (the sandbox refuses invalid HTML like Telegram)."""
    return format_text(html, "HTML")[0]


async def test_a_long_text_goes_out_in_parts_named_after_the_first(steps: Steps) -> None:
    buttons = [[button("닫기", "cm:close:1")]]
    async with steps.tx() as session:
        first = await send_text(
            session=session,
            chat_id=HUB,
            thread_id=5,
            text=DECISIONS,
            buttons=buttons,
            correlation="community:1:summary",
        )

    rows = await steps.outbox(HUB)
    assert len(rows) == 2 and rows[0].id == first.id
    assert [row.correlation for row in rows] == ["community:1:summary", "community:1:summary:p2"]
    assert "buttons" not in rows[0].payload and rows[1].payload["buttons"] == buttons
    texts = [shown(str(row.payload["text"])) for row in rows]
    assert all(utf16_len(text) <= TEXT_LIMIT for text in texts)
    assert "\n".join(texts) == shown(DECISIONS)


async def test_an_edit_and_a_caption_are_cut_to_fit_one_message(steps: Steps) -> None:
    async with steps.tx() as session:
        await edit_text(session=session, chat_id=HUB, message_id=9, text=DECISIONS)
        await send_photo(
            session=session, chat_id=HUB, thread_id=5, file_id="photo-1", caption=DECISIONS
        )

    edit, photo = await steps.outbox(HUB)
    for html, limit in (
        (edit.payload["text"], TEXT_LIMIT),
        (photo.payload["caption"], CAPTION_LIMIT),
    ):
        text = shown(str(html))
        assert limit - 100 < utf16_len(text) <= limit and text.endswith(CUT)
