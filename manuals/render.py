"""Render action manuals as Telegram HTML pages (messenger-neutral: no keyboards here).

Usage::

    from manuals.render import render_manual, render_card, search

    manual = render_manual("fire", "ko")
    manual.pages[0]          # the first screen: title, numbers, what to do now, "more", footer
    manual.labels            # button labels, one per page ("지금 할 일", "발생 시", ...)
    manual.keys              # stable page keys for callback data ("now", "during", ...)
    render_card("earthquake", "en").text      # inline-mode card
    [item.slug for item in search("지진", "ko")]

Each scenario template (``manuals/templates/<lang>/<slug>.j2``) only defines blocks (``now``,
``before``/``during``/``after`` or ``steps``, ``notes``); the layout partials (``_first.j2``,
``_page.j2``, ``_footer.j2``, ``_labels.j2``...) put each block on its own page. Every page is
kept within Telegram's 4096-character limit (counted in UTF-16 units); a block that would not
fit is split on line boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from manuals.catalog import CATEGORIES, Catalog, Scenario, load_catalog
from manuals.classify import classify

TEMPLATES_DIR = Path(__file__).with_name("templates")
MESSAGE_LIMIT = 4096  # Telegram text message limit (UTF-16 code units)
FIRST_SCREEN_TARGET = 800  # what a phone shows without scrolling, roughly
CARD_LIMIT = 4096
PAGE_ORDER: tuple[str, ...] = ("steps", "during", "after", "before", "notes")
HANDBOOK = "handbook"
SEARCH_LIMIT = 8
SEARCH_MIN_SCORE = 1.5  # above what the bigram fallback alone can reach

_TAG = re.compile(r"<[^>]+>")


def utf16_len(text: str) -> int:
    """Return the length of `text` in UTF-16 code units (how Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


def strip_tags(html: str) -> str:
    """Return the plain text of a Telegram HTML fragment (tags dropped, entities decoded)."""
    return Markup(_TAG.sub("", html)).unescape()


@dataclass(frozen=True, slots=True)
class RenderedManual:
    """A manual ready to send: parallel tuples of page keys, button labels and page texts."""

    slug: str
    code: int
    lang: str
    title: str
    numbers: tuple[str, ...]
    urgent: bool
    keys: tuple[str, ...]
    labels: tuple[str, ...]
    pages: tuple[str, ...]

    def page(self, key: str) -> str:
        """Return the text of the page with this key (KeyError if absent)."""
        try:
            return self.pages[self.keys.index(key)]
        except ValueError:
            raise KeyError(key) from None


@dataclass(frozen=True, slots=True)
class ManualCard:
    """A short, shareable manual card for inline mode."""

    slug: str
    title: str
    description: str
    text: str


@dataclass(frozen=True, slots=True)
class ListingItem:
    """One entry of a listing: a key (slug or category) and its button label."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing message: the text above the buttons and the items to turn into buttons."""

    text: str
    items: tuple[ListingItem, ...]


class ManualRenderer:
    """Renders manuals from one templates directory and one catalogue."""

    def __init__(self, catalog: Catalog, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.catalog = catalog
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            auto_reload=False,  # templates ship with the code: no stat() per render
        )
        self._manuals: dict[tuple[str, str], RenderedManual] = {}

    # -- low level -------------------------------------------------------------------------

    def template(self, lang: str, name: str) -> Template:
        """Return the template `<lang>/<name>.j2`."""
        return self.env.get_template(f"{_lang(lang)}/{name}.j2")

    def blocks(
        self, lang: str, name: str, context: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """Render every block of `<lang>/<name>.j2` separately, in definition order."""
        tpl = self.template(lang, name)
        ctx = tpl.new_context(dict(context or {}))
        out: dict[str, str] = {}
        for block, render in tpl.blocks.items():
            text = "".join(render(ctx)).strip()
            if text:
                out[block] = text
        return out

    def block(
        self, lang: str, name: str, block: str, context: Mapping[str, Any] | None = None
    ) -> str:
        """Render one block of `<lang>/<name>.j2` (KeyError if the template lacks it)."""
        tpl = self.template(lang, name)
        render = tpl.blocks[block]
        return "".join(render(tpl.new_context(dict(context or {})))).strip()

    def _render(self, lang: str, template: str, /, **context: Any) -> str:
        return _tidy(self.template(lang, template).render(**context))

    def _labels(self, lang: str) -> Any:
        return self.template(lang, "_labels").module

    def section_label(self, key: str, lang: str) -> str:
        """Return the button label of a section ("during" -> "발생 시")."""
        return str(self._labels(lang).section(key)).strip()

    def number_label(self, number: str, lang: str) -> str:
        """Return what an emergency number is for ("119" -> "fire, rescue, ambulance")."""
        return str(self._labels(lang).number(number)).strip()

    def category_label(self, category: str, lang: str) -> str:
        """Return the display name of a category."""
        return str(self._labels(lang).category(category)).strip()

    # -- manuals ---------------------------------------------------------------------------

    def render_manual(self, slug: str, lang: str) -> RenderedManual:
        """Render a scenario's manual: first screen then one page per further block.

        Manuals are static: each (slug, language) is rendered once per renderer.
        """
        lang = _lang(lang)
        cached = self._manuals.get((slug, lang))
        if cached is None:
            cached = self._render_manual(slug, lang)
            self._manuals[(slug, lang)] = cached
        return cached

    def _render_manual(self, slug: str, lang: str) -> RenderedManual:
        scenario = self.catalog.by_slug(slug)
        blocks = self.blocks(lang, slug)
        if "now" not in blocks:
            raise ValueError(f"template {lang}/{slug}.j2 has no 'now' block")
        rest = [key for key in PAGE_ORDER if key in blocks]
        rest += [key for key in blocks if key not in rest and key != "now"]
        first = self._render(
            lang,
            "_first",
            icon=scenario.icon,
            name=scenario.name(lang),
            numbers=list(scenario.numbers),
            urgent=scenario.urgent,
            now=Markup(blocks["now"]),
            more=bool(rest),
        )
        keys, labels, pages = ["now"], [self.section_label("now", lang)], [first]
        for key in rest:
            label = self.section_label(key, lang)
            for n, body in enumerate(self._chunks(lang, scenario, label, blocks[key], footer=True)):
                keys.append(key if n == 0 else f"{key}{n + 1}")
                labels.append(label if n == 0 else f"{label} {self._continued(lang, n + 1)}")
                pages.append(body)
        return RenderedManual(
            slug=slug,
            code=scenario.code,
            lang=lang,
            title=scenario.title(lang),
            numbers=scenario.numbers,
            urgent=scenario.urgent,
            keys=tuple(keys),
            labels=tuple(labels),
            pages=tuple(pages),
        )

    def _continued(self, lang: str, n: int) -> str:
        return str(self._labels(lang).continued(n)).strip()

    def _page(self, lang: str, icon: str, name: str, label: str, body: str, *, footer: bool) -> str:
        return self._render(
            lang, "_page", icon=icon, name=name, label=label, body=Markup(body), footer=footer
        )

    def _chunks(
        self, lang: str, scenario: Scenario, label: str, body: str, *, footer: bool
    ) -> list[str]:
        """Return the pages for one block, split on lines if one page would be too long."""
        return self._split_pages(
            lang, scenario.icon, scenario.name(lang), label, body, footer=footer
        )

    def _split_pages(
        self, lang: str, icon: str, name: str, label: str, body: str, *, footer: bool
    ) -> list[str]:
        page = self._page(lang, icon, name, label, body, footer=footer)
        if utf16_len(page) <= MESSAGE_LIMIT:
            return [page]
        overhead = utf16_len(self._page(lang, icon, name, label, "", footer=footer))
        budget = MESSAGE_LIMIT - overhead - 16
        chunks: list[list[str]] = [[]]
        size = 0
        for line in body.split("\n"):
            while utf16_len(line) > budget:  # a single enormous line: cut it (rare, defensive)
                head, line = _cut(line, budget)
                if chunks[-1]:
                    chunks.append([])
                chunks[-1].append(head)
                chunks.append([])
                size = 0
            if size + utf16_len(line) + 1 > budget and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += utf16_len(line) + 1
        return [
            self._page(lang, icon, name, label, "\n".join(c), footer=footer) for c in chunks if c
        ]

    def render_card(self, slug: str, lang: str) -> ManualCard:
        """Render the short inline-mode card of a scenario (title, numbers, what to do now)."""
        lang = _lang(lang)
        scenario = self.catalog.by_slug(slug)
        now = self.block(lang, slug, "now")
        text = self._render(
            lang,
            "_card",
            icon=scenario.icon,
            name=scenario.name(lang),
            numbers=list(scenario.numbers),
            now=Markup(now),
        )
        first_line = strip_tags(now).split("\n", 1)[0].lstrip("• ").strip()
        return ManualCard(slug=slug, title=scenario.title(lang), description=first_line, text=text)

    def render_handbook(self, lang: str, **context: Any) -> RenderedManual:
        """Render the staff handbook (handbook.j2): one page per block, in definition order."""
        lang = _lang(lang)
        blocks = self.blocks(lang, HANDBOOK, context)
        title = str(self._labels(lang).handbook_title()).strip()
        keys: list[str] = []
        labels: list[str] = []
        pages: list[str] = []
        for key, body in blocks.items():
            label = self.section_label(key, lang)
            for n, page in enumerate(
                self._split_pages(lang, "📘", title, label, body, footer=False)
            ):
                keys.append(key if n == 0 else f"{key}{n + 1}")
                labels.append(label if n == 0 else f"{label} {self._continued(lang, n + 1)}")
                pages.append(page)
        return RenderedManual(
            slug=HANDBOOK,
            code=0,
            lang=lang,
            title=f"📘 {title}",
            numbers=(),
            urgent=False,
            keys=tuple(keys),
            labels=tuple(labels),
            pages=tuple(pages),
        )

    def render_urgent_prompt(self, signals: list[str] | tuple[str, ...], lang: str) -> str:
        """Render the "call 119/112 now" prompt for urgent signals (empty string if none)."""
        if not signals:
            return ""
        numbers = {s.name: s.number for s in self.catalog.signals}
        wanted = {numbers.get(s, "119") for s in signals}
        number = "119" if "119" in wanted else sorted(wanted)[0]
        return self._render(_lang(lang), "_urgent", number=number)

    # -- browsing and search ---------------------------------------------------------------

    def _browse(self, lang: str, block: str, **context: Any) -> str:
        return self.block(lang, "_browse", block, context)

    def list_categories(self, lang: str) -> Listing:
        """Return the /manual top listing: one item per category."""
        lang = _lang(lang)
        labels = self._labels(lang)
        items = tuple(
            ListingItem(
                key=c,
                label=f"{str(labels.category_icon(c)).strip()} {self.category_label(c, lang)}",
            )
            for c in CATEGORIES
        )
        return Listing(text=self._browse(lang, "categories"), items=items)

    def list_category(self, category: str, lang: str) -> Listing:
        """Return one category's listing: its scenarios in code order."""
        lang = _lang(lang)
        if category not in CATEGORIES:
            raise KeyError(category)
        icon = str(self._labels(lang).category_icon(category)).strip()
        text = self._browse(lang, "category", icon=icon, title=self.category_label(category, lang))
        items = tuple(
            ListingItem(key=s.slug, label=s.title(lang)) for s in self.catalog.in_category(category)
        )
        return Listing(text=text, items=items)

    def search(self, query: str, lang: str) -> list[ListingItem]:
        """Return scenarios matching a word: names first, then the classifier's ranking."""
        lang = _lang(lang)
        needle = "".join(query.lower().split())
        found: list[Scenario] = []
        if needle:
            for s in self.catalog:
                names = ("".join(s.name_ko.split()), "".join(s.name_en.lower().split()), s.slug)
                if any(needle in n for n in names):
                    found.append(s)
            found.sort(key=lambda s: (not _exact(s, needle), s.code))
            result = classify(query, lang)
            for m in result.matches:
                scenario = self.catalog.by_slug(m.slug)
                if scenario not in found and m.raw >= SEARCH_MIN_SCORE:
                    found.append(scenario)
        return [ListingItem(key=s.slug, label=s.title(lang)) for s in found[:SEARCH_LIMIT]]

    def inline_cards(self, query: str, lang: str, limit: int = SEARCH_LIMIT) -> list[ManualCard]:
        """Return the cards for an inline query (`@bot 지진`); urgent scenarios when empty."""
        if query.strip():
            slugs = [item.key for item in self.search(query, lang)]
        else:
            slugs = [s.slug for s in self.catalog if s.urgent]
        return [self.render_card(slug, lang) for slug in slugs[:limit]]

    def search_listing(self, query: str, lang: str) -> Listing:
        """Return the search answer for /manual WORD: a header and the matching scenarios."""
        items = tuple(self.search(query, lang))
        block = "results" if items else "no_results"
        return Listing(text=self._browse(lang, block, query=query), items=items)


def _exact(s: Scenario, needle: str) -> bool:
    return needle in ("".join(s.name_ko.split()), s.name_en.lower().replace(" ", ""), s.slug)


def _cut(line: str, budget: int) -> tuple[str, str]:
    """Split a line at a space so the head fits `budget` UTF-16 units."""
    head = line
    while utf16_len(head) > budget:
        head = head[: max(1, len(head) * budget // max(1, utf16_len(head)) - 1)]
    cut = head.rfind(" ")
    if cut > budget // 2:
        head = head[:cut]
    return head, line[len(head) :].lstrip()


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "ko"


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines in rendered layout output."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


@lru_cache(maxsize=1)
def get_renderer() -> ManualRenderer:
    """Return the renderer over the shipped catalogue and templates, built once per process."""
    return ManualRenderer(load_catalog())


def render_manual(slug: str, lang: str) -> RenderedManual:
    """Render a scenario's manual in Korean ("ko") or English ("en")."""
    return get_renderer().render_manual(slug, lang)


def render_card(slug: str, lang: str) -> ManualCard:
    """Render a scenario's inline-mode card."""
    return get_renderer().render_card(slug, lang)


def render_handbook(lang: str, **context: Any) -> RenderedManual:
    """Render the situation team's handbook (SLA minutes etc. may be passed as context)."""
    return get_renderer().render_handbook(lang, **context)


def render_urgent_prompt(signals: list[str] | tuple[str, ...], lang: str) -> str:
    """Render the "call 119/112 now" prompt for the given urgent signals."""
    return get_renderer().render_urgent_prompt(signals, lang)


def list_categories(lang: str) -> Listing:
    """Return the /manual top listing (one item per category)."""
    return get_renderer().list_categories(lang)


def list_category(category: str, lang: str) -> Listing:
    """Return the scenarios of one category as a listing."""
    return get_renderer().list_category(category, lang)


def search(query: str, lang: str) -> list[ListingItem]:
    """Return the scenarios matching a search word, best first."""
    return get_renderer().search(query, lang)


def inline_cards(query: str, lang: str, limit: int = SEARCH_LIMIT) -> list[ManualCard]:
    """Return the manual cards answering an inline query."""
    return get_renderer().inline_cards(query, lang, limit)


def search_listing(query: str, lang: str) -> Listing:
    """Return the /manual WORD answer: header text and matching scenarios."""
    return get_renderer().search_listing(query, lang)
