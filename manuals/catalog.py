"""The scenario catalogue: metadata for every citizen action manual.

Usage::

    from manuals.catalog import load_catalog

    catalog = load_catalog()
    fire = catalog.by_slug("fire")          # Scenario(slug="fire", code=2011, ...)
    catalog.by_code(1011).slug              # "earthquake"
    [s.slug for s in catalog.in_category("civil_defence")]

The data lives in ``manuals/catalog.toml``. Codes 2011 (fire), 1011 (earthquake) and 3003 (CPR)
follow the official Korean numbering; the others are our own assignment within the category
ranges (natural 1xxx, social 2xxx, daily safety 3xxx, civil defence 4xxx).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

CATALOG_PATH = Path(__file__).with_name("catalog.toml")

CATEGORIES: tuple[str, ...] = ("natural", "social", "daily", "civil_defence")
LANGS: tuple[str, ...] = ("ko", "en")
KINDS: tuple[str, ...] = ("hazard", "procedure")
CAP_CATEGORIES: frozenset[str] = frozenset(
    {
        "Geo",
        "Met",
        "Safety",
        "Security",
        "Rescue",
        "Fire",
        "Health",
        "Env",
        "Transport",
        "Infra",
        "CBRNE",
        "Other",
    }
)

Lang = Literal["ko", "en"]


@dataclass(frozen=True, slots=True)
class Keyword:
    """One keyword or synonym of a scenario, with its matching mode and weight."""

    text: str
    lang: str
    weight: float
    word_start: bool = False  # Korean "^x": must start a word
    whole_word: bool = False  # English "=x": whole word only
    source: str = "keyword"  # "name", "keyword" or "synonym"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario of the action-guideline catalogue with everything but its text."""

    slug: str
    code: int
    category: str
    kind: str
    icon: str
    name_ko: str
    name_en: str
    numbers: tuple[str, ...]
    urgent: bool
    cap_category: str
    cap_event: str
    related: tuple[str, ...]
    experts: tuple[str, ...]
    radius_m: int
    window_minutes: int
    keywords: tuple[Keyword, ...]
    negatives: tuple[Keyword, ...]
    absorbs: tuple[str, ...] = ()  # generic scenarios this one is the specific context of

    def name(self, lang: str) -> str:
        """Return the scenario's display name in `lang` (Korean for anything but "en")."""
        return self.name_en if lang == "en" else self.name_ko

    def title(self, lang: str) -> str:
        """Return the icon and the name, e.g. for a forum topic title."""
        return f"{self.icon} {self.name(lang)}"

    def keywords_for(self, lang: str) -> tuple[Keyword, ...]:
        """Return the keywords and synonyms in one language."""
        return tuple(k for k in self.keywords if k.lang == lang)


@dataclass(frozen=True, slots=True)
class Signal:
    """An urgent signal (trapped, unconscious, fire...) that calls for an immediate 119/112."""

    name: str
    number: str
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whole catalogue with lookups by slug, code and category."""

    scenarios: tuple[Scenario, ...]
    signals: tuple[Signal, ...]
    false_friends: tuple[Keyword, ...]
    shared_keywords: frozenset[str]
    known_numbers: tuple[str, ...]
    expert_fields: tuple[str, ...]
    kept_words: frozenset[str] = frozenset()  # English words the spell-corrector keeps
    closings: tuple[Keyword, ...] = ()  # thanks, ok, 감사합니다: a message of only these
    continuations: tuple[Keyword, ...] = ()  # still, now, 아직, 더: the same situation goes on
    holding_signals: tuple[str, ...] = ()  # signals that keep the citizen in their situation
    laughter: tuple[str, ...] = ()  # ㅋㅋ, ㅎㅎ in the raw text: never a sure scenario
    laughter_mutes: tuple[str, ...] = ()  # signals a laughing message does not raise
    _by_slug: dict[str, Scenario] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_slug", {s.slug: s for s in self.scenarios})

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.scenarios)

    def __len__(self) -> int:
        return len(self.scenarios)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    @property
    def slugs(self) -> tuple[str, ...]:
        """Return every slug in catalogue order."""
        return tuple(s.slug for s in self.scenarios)

    def by_slug(self, slug: str) -> Scenario:
        """Return the scenario with this slug or raise KeyError."""
        return self._by_slug[slug]

    def get(self, slug: str) -> Scenario | None:
        """Return the scenario with this slug or None."""
        return self._by_slug.get(slug)

    def by_code(self, code: int) -> Scenario:
        """Return the scenario with this official code or raise KeyError."""
        for s in self.scenarios:
            if s.code == code:
                return s
        raise KeyError(code)

    def in_category(self, category: str) -> tuple[Scenario, ...]:
        """Return the scenarios of one category in code order."""
        return tuple(sorted((s for s in self.scenarios if s.category == category), key=_code))


def _code(s: Scenario) -> int:
    return s.code


def parse_keyword(raw: str, *, lang: str, default_weight: float, source: str) -> Keyword:
    """Parse the keyword syntax of catalog.toml ("^x", "=x", "x|2.5") into a Keyword."""
    text, _, weight_text = raw.rpartition("|") if "|" in raw else (raw, "", "")
    weight = float(weight_text) if weight_text else default_weight
    word_start = whole_word = False
    if text.startswith("^"):
        word_start, text = True, text[1:]
    elif text.startswith("="):
        whole_word, text = True, text[1:]
    return Keyword(
        text=text.strip(),
        lang=lang,
        weight=weight,
        word_start=word_start,
        whole_word=whole_word,
        source=source,
    )


def _keywords(entry: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[Keyword, ...]:
    out: list[Keyword] = []
    for lang in LANGS:
        out.append(
            parse_keyword(
                entry[f"name_{lang}"],
                lang=lang,
                default_weight=float(defaults["name_weight"]),
                source="name",
            )
        )
        for list_key, source, weight_key in (
            (f"keywords_{lang}", "keyword", "keyword_weight"),
            (f"synonyms_{lang}", "synonym", "synonym_weight"),
        ):
            for raw in entry.get(list_key, ()):
                out.append(
                    parse_keyword(
                        raw, lang=lang, default_weight=float(defaults[weight_key]), source=source
                    )
                )
    return tuple(out)


def _negatives(entry: Mapping[str, Any]) -> tuple[Keyword, ...]:
    return tuple(
        parse_keyword(raw, lang=lang, default_weight=0.0, source="negative")
        for lang in LANGS
        for raw in entry.get(f"negatives_{lang}", ())
    )


def _scenario(entry: Mapping[str, Any], defaults: Mapping[str, Any]) -> Scenario:
    return Scenario(
        slug=entry["slug"],
        code=int(entry["code"]),
        category=entry["category"],
        kind=entry["kind"],
        icon=entry["icon"],
        name_ko=entry["name_ko"],
        name_en=entry["name_en"],
        numbers=tuple(entry.get("numbers", ())),
        urgent=bool(entry.get("urgent", False)),
        cap_category=entry.get("cap_category", "Other"),
        cap_event=entry.get("cap_event", entry["name_en"]),
        related=tuple(entry.get("related", ())),
        experts=tuple(entry.get("experts", ())),
        radius_m=int(entry.get("radius_m", defaults["radius_m"])),
        window_minutes=int(entry.get("window_minutes", defaults["window_minutes"])),
        keywords=_keywords(entry, defaults),
        negatives=_negatives(entry),
        absorbs=tuple(entry.get("absorbs", ())),
    )


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build a Catalog from the parsed TOML document."""
    defaults = data["defaults"]
    signals = tuple(
        Signal(
            name=entry["name"],
            number=entry.get("number", "119"),
            keywords=tuple(
                parse_keyword(raw, lang=lang, default_weight=1.0, source="signal")
                for lang in LANGS
                for raw in entry.get(lang, ())
            ),
        )
        for entry in data.get("signal", ())
    )
    false_friends = tuple(
        parse_keyword(raw, lang=lang, default_weight=0.0, source="false_friend")
        for lang in LANGS
        for raw in data.get("false_friends", {}).get(lang, ())
    )
    return Catalog(
        scenarios=tuple(_scenario(e, defaults) for e in data["scenario"]),
        signals=signals,
        false_friends=false_friends,
        shared_keywords=frozenset(data.get("shared", {}).get("keywords", ())),
        known_numbers=tuple(data.get("numbers", {}).get("known", ())),
        expert_fields=tuple(data.get("experts", {}).get("fields", ())),
        kept_words=frozenset(w.lower() for w in data.get("spelling", {}).get("keep_en", ())),
        closings=_word_list(data.get("closings", {}), "closing"),
        continuations=_word_list(data.get("continuation", {}), "continuation"),
        holding_signals=tuple(data.get("continuation", {}).get("signals", ())),
        laughter=tuple(data.get("laughter", {}).get("marks", ())),
        laughter_mutes=tuple(data.get("laughter", {}).get("mutes", ())),
    )


def _word_list(section: Mapping[str, Any], source: str) -> tuple[Keyword, ...]:
    """Parse a section's `ko` and `en` word lists (keyword syntax, weights unused)."""
    return tuple(
        parse_keyword(raw, lang=lang, default_weight=0.0, source=source)
        for lang in LANGS
        for raw in section.get(lang, ())
    )


def read_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read and parse a catalogue file (uncached; tests use it with their own files)."""
    with path.open("rb") as fh:
        return parse_catalog(tomllib.load(fh))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Return the shipped catalogue, parsed once per process."""
    return read_catalog(CATALOG_PATH)
