"""Words fit Telegram's limits as Telegram counts them, and nothing is lost when they are cut."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pytest

from sandbox.errors import ApiError
from sandbox.html_entities import format_text
from situation.limits import (
    CAPTION_LIMIT,
    CUT,
    NAME_ROOM,
    TEXT_LIMIT,
    clip,
    clip_html,
    fit,
    pack,
    paginate,
    room_for,
    split,
    split_html,
    utf16_len,
    visible_len,
)
from situation.texts import render


def said(words: str) -> str:
    return render("ko", "staff_citizen_says", citizen="👤 R-20261122-0042", text=words)


def rejoin(pieces: list[str]) -> str:
    """Undo the cut marks: what the pieces say, end to end."""
    return "".join(
        piece.removeprefix(CUT if index else "").removesuffix(
            CUT if index < len(pieces) - 1 else ""
        )
        for index, piece in enumerate(pieces)
    )


def parsed(html: str) -> str:
    """The text Telegram shows for ``html`` (the sandbox parses like Telegram)."""
    return format_text(html, "HTML")[0]


def test_lengths_are_utf16_units_of_the_visible_text() -> None:
    assert utf16_len("불이야") == 3
    assert utf16_len("🔥") == 2
    assert visible_len("<b>연기</b> &amp; &lt;3층&gt; &#128293;") == len("연기 & <3층> ") + 2
    assert visible_len("&nbsp;") == 6  # Telegram decodes only &lt; &gt; &amp; &quot; by name
    assert visible_len(said("&" * 10)) == visible_len(said("x" * 10))


def test_words_that_fit_are_left_alone() -> None:
    assert split("3층 복도에 연기", 100) == ["3층 복도에 연기"]
    assert split("", 100) == [""]
    assert fit("abc", 3) == ("abc", "")


def test_a_cut_is_marked_at_the_end_of_one_piece_and_the_start_of_the_next() -> None:
    pieces = split("a" * 25, 10)
    assert pieces == ["a" * 9 + CUT, CUT + "a" * 8 + CUT, CUT + "a" * 8]
    assert rejoin(pieces) == "a" * 25


def test_escaping_costs_no_room_and_never_splits_an_entity() -> None:
    words = "&" * 4096
    pieces = split(words, room_for(said, TEXT_LIMIT))
    assert len(pieces) == 2
    for piece in pieces:
        html = said(piece)
        assert utf16_len(parsed(html)) <= TEXT_LIMIT
        assert visible_len(html) == utf16_len(parsed(html))
    assert utf16_len(parsed(said(pieces[0]))) == TEXT_LIMIT
    assert rejoin(pieces) == words


def test_emoji_count_double_and_are_never_split() -> None:
    words = ("불" + "🔥" * 3) * 586  # 586 * 7 = 4102 units
    assert utf16_len(words) == 4102
    for room in (TEXT_LIMIT - 21, TEXT_LIMIT - 22, 101, 100):
        pieces = split(words, room)
        assert all(utf16_len(piece) <= room for piece in pieces)
        assert rejoin(pieces) == words
        assert all("\ud83d" not in piece for piece in pieces)


def test_a_cut_keeps_whole_words_and_joined_emoji() -> None:
    words = "불이 번지고 있어요 " * 40
    pieces = split(words, 100)
    whole = {"불이", "번지고", "있어요"}
    assert all(piece.removesuffix(CUT).split()[-1] in whole for piece in pieces[:-1])
    assert all(piece.removeprefix(CUT).split()[0] in whole for piece in pieces[1:])
    assert "".join(rejoin(pieces).split()) == "".join(words.split())
    family = "👨\u200d👩\u200d👧"  # one emoji of five characters, eight units
    for room in range(40, 56):  # every place a cut can fall within the emoji
        pieces = split(family * 20, room)
        assert rejoin(pieces) == family * 20
        assert all(piece.strip(CUT).count("\u200d") % 2 == 0 for piece in pieces)


def test_the_first_piece_may_have_less_room_than_the_rest() -> None:
    caption_room = room_for(said, CAPTION_LIMIT)
    words = "가" * 1200
    pieces = split(words, room_for(said, TEXT_LIMIT), first_room=caption_room)
    assert utf16_len(parsed(said(pieces[0]))) == CAPTION_LIMIT
    assert len(pieces) == 2 and rejoin(pieces) == words


def test_html_in_words_arrives_as_typed() -> None:
    words = "연기 <b> & </script> 3층 &amp; \"따옴표\" 'ㅇ'"
    (piece,) = split(words, room_for(said, CAPTION_LIMIT))
    assert parsed(said(piece)) == f"👤 R-20261122-0042: {words}"


def test_the_smallest_room_still_moves_on() -> None:
    pieces = split("🔥🔥🔥", 4)
    assert pieces == ["🔥" + CUT, CUT + "🔥" + CUT, CUT + "🔥"]
    with pytest.raises(ValueError, match="no room"):
        split("🔥🔥🔥", 3)


def test_a_frame_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        room_for(lambda words: "x" * 1024 + words, CAPTION_LIMIT)


def lines_of_mentions(count: int) -> str:
    """A rendered staff list: bold heading, one mention per line, entities and emoji."""
    family = "👨\u200d👩\u200d👧"
    rows = "\n".join(
        f'🔥 <code>R-{n}</code> <a href="tg://user?id={n}">김 &amp; &lt;{n}&gt; {family}</a>'
        for n in range(count)
    )
    return f"<b>미접수 사건</b>\n{rows}\n\n<i>끝</i>"


def shown(pieces: list[str]) -> list[str]:
    """What Telegram shows for each piece (it refuses invalid HTML: the sandbox parses alike)."""
    return [parsed(piece) for piece in pieces]


def test_split_html_leaves_a_fitting_text_alone() -> None:
    html = lines_of_mentions(3)
    assert split_html(html) == [html] and clip_html(html) == html


def test_split_html_cuts_between_lines_within_the_limit_in_utf16_units() -> None:
    html = lines_of_mentions(310)
    # two messages' worth of characters, but three of UTF-16 units (emoji count twice)
    assert len(parsed(html)) <= 2 * TEXT_LIMIT < visible_len(html)
    pieces = split_html(html)
    assert len(pieces) == 3
    texts = shown(pieces)
    assert all(utf16_len(text) <= TEXT_LIMIT for text in texts)
    assert "\n".join(texts) == parsed(html)  # cut at line ends: nothing lost, nothing marked
    assert all(CUT not in text for text in texts)
    mentions = [format_text(piece, "HTML")[1] for piece in pieces]
    assert sum(1 for entities in mentions for e in entities if e["type"] == "text_link") == 310


def test_split_html_closes_and_reopens_tags_at_a_cut_within_a_line() -> None:
    html = "<b>" + "🔥 불" * 3000 + "</b>"  # one bold line of 12,000 units
    pieces = split_html(html)
    texts = shown(pieces)
    assert all(utf16_len(text) <= TEXT_LIMIT for text in texts)
    assert all(piece.startswith("<b>") and piece.endswith("</b>") for piece in pieces)
    assert "".join(rejoin(texts).split()) == "".join(parsed(html).split())  # a cut eats a space


def test_split_html_never_cuts_an_entity_or_an_emoji() -> None:
    for html in ("&amp;" * 5000, "<i>" + "&lt;🔥" * 3000 + "</i>", "👨\u200d👩\u200d👧" * 1000):
        pieces = split_html(html)
        texts = shown(pieces)
        assert all(utf16_len(text) <= TEXT_LIMIT for text in texts)
        assert rejoin(texts) == parsed(html)


def test_split_html_cuts_to_a_caption_and_leaves_out_blank_pieces() -> None:
    html = "a\n" + "\n" * 3000 + "<b>" + "b " * 800 + "</b>"
    pieces = split_html(html, CAPTION_LIMIT)
    assert all(utf16_len(text) <= CAPTION_LIMIT and text.strip() for text in shown(pieces))


def test_clip_html_keeps_the_head_valid_and_marked() -> None:
    html = lines_of_mentions(200)
    head = clip_html(html)
    text = parsed(head)
    assert utf16_len(text) <= TEXT_LIMIT and text.endswith(CUT)
    assert parsed(html).startswith(text.removesuffix(CUT).rstrip())
    caption = clip_html('<a href="tg://user?id=1">' + "가나다 " * 400 + "</a>", CAPTION_LIMIT)
    assert utf16_len(parsed(caption)) <= CAPTION_LIMIT and caption.endswith(CUT + "</a>")


def test_the_old_cut_after_rendering_breaks_the_markup() -> None:
    html = lines_of_mentions(200)
    with pytest.raises(ApiError, match="can't parse entities"):
        parsed(html[:4096])  # what the staff room used to send: Telegram refuses it


def test_clip_cuts_plain_words_in_units_and_marks_the_cut() -> None:
    assert clip("홍길동", NAME_ROOM) == "홍길동"
    name = "🔥" * 100
    assert clip(name, NAME_ROOM) == "🔥" * 31 + CUT and utf16_len(clip(name, NAME_ROOM)) == 63


def row(lines: Sequence[str]) -> str:
    return render(
        "en",
        "staff_reports_joined",
        count=len(lines),
        lines=[
            {"citizen": line, "district": None, "place": None, "text": None, "forwarded": None}
            for line in lines
        ],
    )


def test_pack_fills_each_run_as_far_as_the_frame_allows() -> None:
    names = [f"👤 R-{n} " + "🔥" * 40 for n in range(300)]
    runs = pack(names, row)
    assert [name for run in runs for name in run] == names
    assert all(visible_len(row(run)) <= TEXT_LIMIT for run in runs)
    assert all(visible_len(row([*run, nxt[0]])) > TEXT_LIMIT for run, nxt in pairwise(runs))
    assert pack([], row) == [[]]
    with pytest.raises(ValueError, match="does not fit"):
        pack(["x" * 5000], row)


def test_paginate_numbers_the_parts_only_when_there_are_several() -> None:
    def part(run: Sequence[str], number: int, count: int) -> str:
        return f"<b>목록</b> ({number}/{count})\n" + "\n".join(run) if count > 1 else "\n".join(run)

    assert paginate(["a", "b"], part) == ["a\nb"]
    pieces = paginate(["🔥" * 1000] * 9, part)
    assert len(pieces) == 5 and pieces[-1].startswith("<b>목록</b> (5/5)\n")
    assert all(utf16_len(text) <= TEXT_LIMIT for text in shown(pieces))
