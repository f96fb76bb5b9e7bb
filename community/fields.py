"""Expert fields: the catalogue kept with the manuals, suggestions per scenario, parsing.

Usage::

    suggested_fields("fire")              # ["fire", "structural"]
    parse_fields("fire, 2")               # ["fire", "structural"]
"""

from __future__ import annotations

import re

from manuals.catalog import load_catalog

AGENCIES = ("fire_dispatch", "police", "district_office", "utilities")


class UnknownField(ValueError):
    """Raised for a field that is not in the catalogue."""


def field_catalogue() -> tuple[str, ...]:
    """Return every expert field in catalogue order."""
    return load_catalog().expert_fields


def suggested_fields(scenario: str | None) -> list[str]:
    """Return the fields the scenario suggests inviting (empty for an unknown scenario)."""
    if not scenario:
        return []
    entry = load_catalog().get(scenario)
    return list(entry.experts) if entry is not None else []


def parse_fields(text: str) -> list[str]:
    """Parse fields given by slug or 1-based catalogue number, separated by commas or spaces."""
    catalogue = field_catalogue()
    chosen: list[str] = []
    for token in (part for part in re.split(r"[\s,;]+", text.strip()) if part):
        value = token.lower()
        if value.isdigit() and 1 <= int(value) <= len(catalogue):
            value = catalogue[int(value) - 1]
        if value not in catalogue:
            raise UnknownField(token)
        if value not in chosen:
            chosen.append(value)
    return chosen


def toggle(fields: list[str], field: str) -> list[str]:
    """Return ``fields`` with ``field`` added, or removed if present (catalogue order kept)."""
    if field not in field_catalogue():
        raise UnknownField(field)
    chosen = set(fields) ^ {field}
    return [name for name in field_catalogue() if name in chosen]
