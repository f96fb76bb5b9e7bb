"""The directory of outside agencies an incident can be handed over to, and how.

Usage::

    directory = load_agencies()                 # the defaults, or a TOML file's [[agency]] list
    directory.get("fire119").name("ko")         # "119 종합상황실"

A TOML file (``JIKIMI_...`` setting pointing at it) replaces the defaults::

    [[agency]]
    key = "kepco"
    name_ko = "한국전력 지사"
    name_en = "KEPCO branch"
    contact = "123"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

METHODS = ("phone", "hotline", "system", "fax")


@dataclass(frozen=True)
class Agency:
    """An agency: a short key (used in buttons), names and how to reach it."""

    key: str
    name_ko: str
    name_en: str
    contact: str

    def name(self, lang: str) -> str:
        """Return the agency's name in ``lang``."""
        return self.name_ko if lang == "ko" else self.name_en


DEFAULT_AGENCIES = (
    Agency("fire119", "119 종합상황실", "119 dispatch centre", "119"),
    Agency("police112", "112 치안종합상황실", "112 police situation room", "112"),
    Agency("district", "구청 재난안전과", "District office, disaster safety", "120"),
    Agency("kepco", "한국전력 (정전·전기)", "KEPCO (power)", "123"),
    Agency("gas", "한국가스안전공사", "Korea Gas Safety Corporation", "1544-4500"),
)


@dataclass(frozen=True)
class Directory:
    """An ordered list of agencies."""

    agencies: tuple[Agency, ...]

    def get(self, key: str) -> Agency | None:
        """Return the agency with this key."""
        return next((agency for agency in self.agencies if agency.key == key), None)


def load_agencies(path: Path | None = None) -> Directory:
    """Return the directory from a TOML file, or the defaults when ``path`` is None."""
    if path is None:
        return Directory(DEFAULT_AGENCIES)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    agencies = tuple(
        Agency(
            key=str(entry["key"]),
            name_ko=str(entry["name_ko"]),
            name_en=str(entry.get("name_en", entry["name_ko"])),
            contact=str(entry.get("contact", "")),
        )
        for entry in data.get("agency", [])
    )
    if not agencies:
        raise ValueError(f"{path}: no [[agency]] entries")
    for agency in agencies:
        if ":" in agency.key or len(agency.key) > 16:
            raise ValueError(f"{path}: agency key {agency.key!r} must be short and without ':'")
    return Directory(agencies)
