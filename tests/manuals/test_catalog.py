"""Tests for manuals.catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from manuals.catalog import CAP_CATEGORIES, CATEGORIES, load_catalog, parse_keyword, read_catalog


def test_catalog_has_every_scenario_of_the_spec() -> None:
    catalog = load_catalog()
    assert len(catalog) == 62
    assert len(set(catalog.slugs)) == 62
    assert len({s.code for s in catalog}) == 62
    assert {s.category for s in catalog} == set(CATEGORIES)


def test_official_codes() -> None:
    catalog = load_catalog()
    assert catalog.by_slug("fire").code == 2011
    assert catalog.by_code(1011).slug == "earthquake"
    assert catalog.by_code(3003).slug == "cpr"


def test_code_ranges_follow_categories() -> None:
    ranges = {"natural": 1, "social": 2, "daily": 3, "civil_defence": 4}
    for s in load_catalog():
        assert s.code // 1000 == ranges[s.category], s.slug


def test_lookup_and_category_order() -> None:
    catalog = load_catalog()
    assert "fire" in catalog
    assert "unknown" not in catalog
    assert catalog.get("unknown") is None
    with pytest.raises(KeyError):
        catalog.by_slug("unknown")
    with pytest.raises(KeyError):
        catalog.by_code(9999)
    civil = [s.slug for s in catalog.in_category("civil_defence")]
    assert civil == ["emergency_state", "air_raid", "cbr_weapons", "emergency_supplies"]


def test_metadata_is_consistent() -> None:
    catalog = load_catalog()
    for s in catalog:
        assert s.cap_category in CAP_CATEGORIES, s.slug
        assert set(s.numbers) <= set(catalog.known_numbers), s.slug
        assert set(s.experts) <= set(catalog.expert_fields), s.slug
        assert all(r in catalog for r in s.related), s.slug
        assert s.kind in {"hazard", "procedure"}
        assert s.radius_m > 0 and s.window_minutes > 0
        assert s.keywords_for("ko") and s.keywords_for("en")
        assert s.title("ko").startswith(s.icon)
        if s.urgent:
            assert "119" in s.numbers or "112" in s.numbers, s.slug


def test_wide_clusters_for_wide_hazards() -> None:
    catalog = load_catalog()
    fire = catalog.by_slug("fire")
    for slug in ("wildfire", "typhoon", "earthquake"):
        assert catalog.by_slug(slug).radius_m > fire.radius_m


def test_parse_keyword_syntax() -> None:
    k = parse_keyword("^불|1.5", lang="ko", default_weight=2.0, source="keyword")
    assert (k.text, k.weight, k.word_start, k.whole_word) == ("불", 1.5, True, False)
    k = parse_keyword("=war", lang="en", default_weight=2.0, source="keyword")
    assert (k.text, k.weight, k.word_start, k.whole_word) == ("war", 2.0, False, True)


def test_read_catalog_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[defaults]
radius_m = 100
window_minutes = 10
keyword_weight = 2.0
synonym_weight = 1.0
name_weight = 3.0

[[scenario]]
slug = "x"
code = 1999
category = "natural"
kind = "hazard"
icon = "X"
name_ko = "엑스"
name_en = "Ex"
keywords_ko = ["엑스선"]
""",
        encoding="utf-8",
    )
    catalog = read_catalog(path)
    x = catalog.by_slug("x")
    assert x.radius_m == 100 and x.numbers == () and not x.urgent
    assert [k.text for k in x.keywords] == ["엑스", "엑스선", "Ex"]
