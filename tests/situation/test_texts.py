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
