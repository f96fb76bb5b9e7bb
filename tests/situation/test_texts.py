"""The message catalogue: renders, escapes, and remembers renders of plain contexts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from situation import texts
from situation.texts import render


def test_plain_contexts_render_once_and_stay_escaped() -> None:
    texts._render_plain.cache_clear()
    first = render("ko-KR", "staff_label", key="take")
    assert first == render("ko", "staff_label", key="take") == "🙋 담당하기"
    assert texts._render_plain.cache_info().hits == 1  # ko-KR and ko share one entry
    place = {"district": "<Mapo>", "outside": False, "live": False, "known": None}
    escaped = render("en", "citizen_location_received", **place)
    assert "&lt;Mapo&gt;" in escaped
    assert render("en", "citizen_location_received", **dict(reversed(place.items()))) == escaped


def test_other_contexts_render_every_time() -> None:
    known = SimpleNamespace(reference="I-7", handled=False, reports=3)
    before = texts._render_plain.cache_info().currsize
    text = render(
        "en", "citizen_location_received", district="Mapo", outside=False, live=False, known=known
    )
    assert "I-7" in text
    assert texts._render_plain.cache_info().currsize == before


def test_a_missing_value_is_an_error_every_time() -> None:
    for _ in range(2):
        with pytest.raises(UndefinedError):
            render("en", "staff_label")


def test_long_texts_are_rendered_but_not_remembered() -> None:
    """A citizen's long words are rendered every time; short labels are remembered."""
    from situation.texts import _render_plain

    _render_plain.cache_clear()
    words = "물이 차올라요 " * 100
    first = render("ko", "staff_citizen_says", citizen="👤 R-1", text=words)
    assert words.strip() in first
    assert _render_plain.cache_info().currsize == 0
    render("ko", "staff_citizen_says", citizen="👤 R-1", text="짧은 말")
    assert _render_plain.cache_info().currsize == 1


def test_no_korean_particle_follows_a_number_it_cannot_know() -> None:
    """`R-…0001를` is wrong and `R-…0002를` right: a reference's last digit picks 을/를.

    A particle right after a value must be written for both endings (을(를)) or follow a
    word instead ("신고(R-…)를").
    """
    import re
    from pathlib import Path

    folder = Path(texts.__file__).parent / "templates" / "messages" / "ko"
    particle = re.compile(r"\}\}(?:</code>)?[을를은는이가과와](?!\()")
    wrong = [
        f"{path.name}: {line.strip()}"
        for path in sorted(folder.glob("*.j2"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if particle.search(line)
    ]
    assert wrong == []


@pytest.mark.parametrize("markup_first", [True, False])
def test_markup_and_the_same_plain_text_are_remembered_apart(markup_first: bool) -> None:
    """``Markup("<b>x</b>")`` equals ``"<b>x</b>"``; one is inserted raw, the other escaped."""
    from markupsafe import Markup

    texts._render_plain.cache_clear()
    raw, plain = Markup("<b>x</b>"), "<b>x</b>"
    order = [raw, plain] if markup_first else [plain, raw]
    rendered = {
        type(value): render("en", "staff_citizen_says", citizen="R-1", text=value)
        for value in order
    }
    assert rendered[Markup] == "R-1: <b>x</b>"
    assert rendered[str] == "R-1: &lt;b&gt;x&lt;/b&gt;"
    # Both are still remembered: the same call again is a hit, not a second rendering.
    for value in order:
        render("en", "staff_citizen_says", citizen="R-1", text=value)
    assert texts._render_plain.cache_info().hits == 2
    assert texts._render_plain.cache_info().currsize == 2


def test_equal_numbers_of_other_types_are_remembered_apart() -> None:
    """``1 == 1.0 == True``, yet each renders its own way."""
    texts._render_plain.cache_clear()
    shown = [render("en", "staff_citizen_says", citizen="R-1", text=v) for v in (1, 1.0, True)]
    assert shown == ["R-1: 1", "R-1: 1.0", "R-1: True"]


def test_every_message_exists_in_korean_and_english() -> None:
    """No message of the catalogue is written in one language only (a missing one would
    fail at its first rendering, in front of a citizen or staff)."""
    korean, english = texts.catalogue_names("ko"), texts.catalogue_names("en")
    assert sorted(korean - english) == []
    assert sorted(english - korean) == []
    assert len(korean) > 150
