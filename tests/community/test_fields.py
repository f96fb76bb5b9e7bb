"""Expert fields come from the manual catalogue; scenarios suggest them."""

from __future__ import annotations

import pytest

from community.fields import UnknownField, field_catalogue, parse_fields, suggested_fields, toggle


def test_catalogue_and_suggestions() -> None:
    """The catalogue has the ten fields; a fire suggests fire and structural experts."""
    assert len(field_catalogue()) == 10
    assert suggested_fields("fire") == ["fire", "structural"]
    assert suggested_fields("no-such-scenario") == []
    assert suggested_fields(None) == []


def test_parse_and_toggle() -> None:
    """Fields parse by slug or number; toggling keeps catalogue order."""
    assert parse_fields("FIRE, 2 fire") == ["fire", "structural"]
    with pytest.raises(UnknownField):
        parse_fields("fire 99")
    assert toggle(["structural"], "fire") == ["fire", "structural"]
    assert toggle(["fire", "structural"], "fire") == ["structural"]
    with pytest.raises(UnknownField):
        toggle([], "cooking")
