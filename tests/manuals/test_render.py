"""Tests for manuals.render."""

from __future__ import annotations

from pathlib import Path

import pytest

from manuals.catalog import load_catalog
from manuals.render import (
    FIRST_SCREEN_TARGET,
    MESSAGE_LIMIT,
    ManualRenderer,
    list_categories,
    list_category,
    render_card,
    render_handbook,
    render_manual,
    render_urgent_prompt,
    search,
    search_listing,
    strip_tags,
    utf16_len,
)

ALL = [(s.slug, lang) for s in load_catalog() for lang in ("ko", "en")]


@pytest.mark.parametrize(("slug", "lang"), ALL)
def test_every_manual_renders_within_limits(slug: str, lang: str) -> None:
    manual = render_manual(slug, lang)
    assert manual.keys[0] == "now"
    assert len(manual.keys) == len(manual.labels) == len(manual.pages) >= 2
    assert all(utf16_len(page) <= MESSAGE_LIMIT for page in manual.pages)
    assert utf16_len(manual.pages[0]) <= FIRST_SCREEN_TARGET
    first = strip_tags(manual.pages[0])
    for number in manual.numbers:
        assert number in first
    footer = "상황실" if lang == "ko" else "situation room"
    assert all(footer in page for page in manual.pages)
    assert "<br" not in "".join(manual.pages)


def test_first_screen_layout() -> None:
    manual = render_manual("fire", "ko")
    first = manual.pages[0]
    assert first.startswith("🔥 <b>화재</b>")
    assert "<b>119</b>" in first
    assert manual.labels[0] == "지금 할 일"
    assert "during" in manual.keys and "before" in manual.keys
    assert manual.page("during").startswith("🔥 <b>화재</b> · 발생 시")
    with pytest.raises(KeyError):
        manual.page("steps")


def test_procedure_has_steps_page() -> None:
    manual = render_manual("cpr", "en")
    assert manual.keys[1] == "steps"
    assert "1. " in manual.page("steps")
    assert "30" in manual.page("steps")


def test_scenario_without_numbers_has_no_phone_line() -> None:
    manual = render_manual("fine_dust", "ko")
    assert manual.numbers == ()
    assert "📞" not in manual.pages[0]


def test_unknown_lang_falls_back_to_korean() -> None:
    assert render_manual("fire", "xx").lang == "ko"


def test_variables_are_autoescaped(mini_renderer: ManualRenderer) -> None:
    blocks = mini_renderer.blocks("en", "alpha", {"who": "<script>&"})
    assert "&lt;script&gt;&amp;" in blocks["now"]
    assert "<script>" not in blocks["now"]


def test_layout_does_not_double_escape(mini_renderer: ManualRenderer) -> None:
    manual = mini_renderer.render_manual("alpha", "en")
    assert "<b>Alpha</b>" in manual.pages[0]
    assert "&lt;b&gt;" not in manual.pages[0]


def test_mini_catalogue_pages(mini_renderer: ManualRenderer) -> None:
    hazard = mini_renderer.render_manual("alpha", "en")
    assert hazard.keys == ("now", "during", "after", "before")
    assert hazard.labels[1] == "When it happens"
    procedure = mini_renderer.render_manual("beta", "ko")
    assert procedure.keys == ("now", "steps")
    assert "📞" not in procedure.pages[0]


def test_long_block_is_split(mini_renderer: ManualRenderer, mini_dir: Path) -> None:
    long = "\n".join(f"• line {i} " + "x" * 80 for i in range(120))
    (mini_dir / "en" / "alpha.j2").write_text(
        "{% block now %}• a\n• b\n• c{% endblock %}{% block during %}" + long + "{% endblock %}",
        encoding="utf-8",
    )
    manual = mini_renderer.render_manual("alpha", "en")
    during = [k for k in manual.keys if k.startswith("during")]
    assert len(during) >= 3
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in manual.pages)
    assert manual.labels[manual.keys.index("during2")] == "When it happens (2)"
    joined = "".join(manual.pages)
    assert "line 0 " in joined and "line 119 " in joined


def test_missing_now_block_is_an_error(mini_renderer: ManualRenderer, mini_dir: Path) -> None:
    (mini_dir / "ko" / "alpha.j2").write_text("{% block during %}• x{% endblock %}", "utf-8")
    with pytest.raises(ValueError, match="now"):
        mini_renderer.render_manual("alpha", "ko")


def test_card_is_short_and_shareable() -> None:
    card = render_card("earthquake", "ko")
    assert card.title.endswith("지진")
    assert card.description and "<" not in card.description
    assert "<b>119</b>" in card.text
    assert utf16_len(card.text) <= FIRST_SCREEN_TARGET


def test_handbook_pages() -> None:
    for lang in ("ko", "en"):
        handbook = render_handbook(lang)
        assert len(handbook.pages) >= 3
        assert all(utf16_len(p) <= MESSAGE_LIMIT for p in handbook.pages)
        assert handbook.slug == "handbook"


def test_handbook_context(mini_renderer: ManualRenderer) -> None:
    assert "P1 2" in mini_renderer.render_handbook("en").page("priorities")
    handbook = mini_renderer.render_handbook("en", sla_p1_minutes=5)
    assert "P1 5" in handbook.page("priorities")
    assert handbook.labels == ("Intake and triage", "Priorities", "Closing")


def test_urgent_prompt() -> None:
    assert render_urgent_prompt([], "ko") == ""
    assert "119" in render_urgent_prompt(["trapped"], "ko")
    assert "112" in render_urgent_prompt(["violence"], "en")
    assert "119" in render_urgent_prompt(["violence", "fire"], "en")


def test_category_listings() -> None:
    top = list_categories("en")
    assert [i.key for i in top.items] == ["natural", "social", "daily", "civil_defence"]
    assert "/manual" in top.text
    natural = list_category("natural", "ko")
    assert natural.items[0].key == "typhoon"
    assert len(natural.items) == 17
    assert "자연재난" in natural.text
    with pytest.raises(KeyError):
        list_category("nope", "ko")


def test_search() -> None:
    assert [i.key for i in search("지진", "ko")][:2] == ["earthquake", "tsunami"]
    assert search("엘베", "ko")[0].key == "elevator"
    assert search("Fire", "en")[0].key == "fire"
    assert search("", "ko") == []
    assert search_listing("xyzzy", "ko").items == ()
    listing = search_listing("<b>", "en")
    assert "&lt;b&gt;" in listing.text


def test_inline_cards() -> None:
    from manuals.render import inline_cards

    cards = inline_cards("지진", "ko")
    assert [c.slug for c in cards][:2] == ["earthquake", "tsunami"]
    assert all(utf16_len(c.text) <= MESSAGE_LIMIT for c in cards)
    default = inline_cards("", "en", limit=5)
    assert len(default) == 5
    assert all(load_catalog().by_slug(c.slug).urgent for c in default)
    assert inline_cards("xyzzy", "ko") == []
