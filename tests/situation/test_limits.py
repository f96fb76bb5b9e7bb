"""Words fit Telegram's limits as Telegram counts them, and nothing is lost when they are cut."""

from __future__ import annotations

import pytest

from sandbox.html_entities import format_text
from situation.limits import (
    CAPTION_LIMIT,
    CUT,
    TEXT_LIMIT,
    fit,
    room_for,
    split,
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
