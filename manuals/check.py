"""Validate the whole manual catalogue: metadata, templates, rendered limits and keywords.

Usage::

    from manuals.check import check_catalog

    problems = check_catalog()      # [] when everything is fine
    for p in problems:
        print(p)                    # "fire/en: page 'during' is 5000 UTF-16 units (> 4096)"
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError, nodes

from manuals.catalog import CAP_CATEGORIES, CATEGORIES, KINDS, LANGS, Catalog, load_catalog
from manuals.classify import MAX_SPAN, Classifier, en_form, ko_form
from manuals.render import (
    FIRST_SCREEN_TARGET,
    HANDBOOK,
    MESSAGE_LIMIT,
    TEMPLATES_DIR,
    ManualRenderer,
    strip_tags,
    utf16_len,
)

MIN_SCENARIOS = 60
FIRST_SCREEN_MAX = FIRST_SCREEN_TARGET  # what a phone shows without scrolling
NOW_BLOCK_MAX = 450
NOW_LINE_MAX = 90
NOW_LINES = (3, 5)
BLOCK_MAX = {"before": 900, "during": 900, "after": 900, "steps": 1200}
BULLET_BLOCKS = ("now", "before", "during", "after", "notes")
_STEP = re.compile(r"^\d+\. ")
REQUIRED_BLOCKS = {"hazard": ("now", "before", "during", "after"), "procedure": ("now", "steps")}
HANDBOOK_MIN_BLOCKS = 3
ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a"})
_TAG = re.compile(r"</?\s*([a-zA-Z0-9]+)[^>]*>")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the catalogue, tied to a scenario and language where it applies."""

    message: str
    slug: str | None = None
    lang: str | None = None

    def __str__(self) -> str:
        where = "/".join(x for x in (self.slug, self.lang) if x)
        return f"{where}: {self.message}" if where else self.message


def _metadata(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    if len(catalog) < MIN_SCENARIOS:
        problems.append(Problem(f"only {len(catalog)} scenarios (at least {MIN_SCENARIOS})"))
    for attr in ("slug", "code"):
        counts: dict[object, int] = defaultdict(int)
        for s in catalog:
            counts[getattr(s, attr)] += 1
        problems += [Problem(f"duplicate {attr} {v!r}") for v, n in counts.items() if n > 1]
    ranges = {c: i + 1 for i, c in enumerate(CATEGORIES)}
    for s in catalog:
        if s.category not in CATEGORIES:
            problems.append(Problem(f"unknown category {s.category!r}", s.slug))
        elif s.code // 1000 != ranges[s.category]:
            problems.append(Problem(f"code {s.code} outside the {s.category} range", s.slug))
        if s.kind not in KINDS:
            problems.append(Problem(f"unknown kind {s.kind!r}", s.slug))
        if s.cap_category not in CAP_CATEGORIES:
            problems.append(Problem(f"unknown CAP category {s.cap_category!r}", s.slug))
        for n in s.numbers:
            if n not in catalog.known_numbers:
                problems.append(Problem(f"unknown emergency number {n!r}", s.slug))
        for r in s.related:
            if r not in catalog or r == s.slug:
                problems.append(Problem(f"bad related scenario {r!r}", s.slug))
        for a in s.absorbs:
            if a not in catalog or a == s.slug:
                problems.append(Problem(f"bad absorbed scenario {a!r}", s.slug))
        for f in s.experts:
            if f not in catalog.expert_fields:
                problems.append(Problem(f"unknown expert field {f!r}", s.slug))
        if s.urgent and not {"119", "112"} & set(s.numbers):
            problems.append(Problem("urgent scenario without 119 or 112", s.slug))
        for lang in LANGS:
            if not any(k.source != "name" for k in s.keywords_for(lang)):
                problems.append(Problem("no keywords", s.slug, lang))
    return problems


def _keywords(catalog: Catalog) -> list[Problem]:
    """Every normalised keyword belongs to one scenario unless it is in the shared list."""
    shared = {ko_form(k) for k in catalog.shared_keywords} | {
        en_form(k) for k in catalog.shared_keywords
    }
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in catalog:
        for k in s.keywords:
            form = ko_form(k.text) if k.lang == "ko" else en_form(k.text)
            if not form:
                return [Problem(f"keyword {k.text!r} is empty once normalised", s.slug, k.lang)]
            if len(form) > MAX_SPAN and "*" not in k.text:
                return [Problem(f"keyword {k.text!r} is longer than {MAX_SPAN}", s.slug, k.lang)]
            owners[(k.lang, form)].add(s.slug)
    for k in catalog.false_friends:
        form = ko_form(k.text) if k.lang == "ko" else en_form(k.text)
        if len(form) > MAX_SPAN and "*" not in k.text:
            return [Problem(f"false friend {k.text!r} is longer than {MAX_SPAN}", None, k.lang)]
    return [
        Problem(f"keyword {form!r} is shared by {', '.join(sorted(slugs))} (add it to [shared])")
        for (_, form), slugs in sorted(owners.items())
        if len(slugs) > 1 and form not in shared
    ]


def _word_lists(catalog: Catalog) -> list[Problem]:
    """Closings, continuation words and laughter marks are usable and hide no keyword."""
    problems = []
    signals = {s.name for s in catalog.signals}
    for name in catalog.holding_signals:
        if name not in signals:
            problems.append(Problem(f"continuation signal {name!r} is no signal"))
    for k in catalog.continuations + catalog.closings:
        if not ko_form(k.text):
            problems.append(
                Problem(f"{k.source} {k.text!r} is empty once normalised", None, k.lang)
            )
    # A closing that is a keyword would hide a message made of that keyword alone.
    keywords = {
        ko_form(k.text)
        for k in (
            *(k for s in catalog for k in s.keywords),
            *(k for sig in catalog.signals for k in sig.keywords),
        )
        if "*" not in k.text
    }
    for k in catalog.closings:
        if ko_form(k.text) in keywords:
            problems.append(Problem(f"closing {k.text!r} is a keyword", None, k.lang))
    for mark in catalog.laughter:
        if not mark.strip() or ko_form(mark):
            problems.append(Problem(f"laughter mark {mark!r} must be bare jamo"))
    signals = {signal.name for signal in catalog.signals}
    for name in catalog.laughter_mutes:
        if name not in signals:
            problems.append(Problem(f"laughter mutes {name!r}, which is no signal"))
    return problems


def _names(catalog: Catalog) -> list[Problem]:
    """Every scenario's own name, in both languages, must classify to that scenario."""
    classifier = Classifier(catalog)
    problems = []
    for s in catalog:
        for lang in LANGS:
            top = classifier.classify(s.name(lang), lang).top
            if top is None or top.slug != s.slug:
                got = top.slug if top else "nothing"
                problems.append(Problem(f"its name classifies as {got}", s.slug, lang))
    return problems


def _format(blocks: dict[str, str], slug: str, lang: str) -> list[Problem]:
    """The template format of the shared spec: bullets, numbered steps, line and block sizes."""
    problems = []
    for block, text in blocks.items():
        lines = [line for line in text.split("\n") if line.strip()]
        if block in BULLET_BLOCKS and any(not line.startswith("• ") for line in lines):
            problems.append(
                Problem(f"block {block!r} has a line not starting with '• '", slug, lang)
            )
        if block == "steps" and any(not _STEP.match(line) for line in lines):
            problems.append(Problem("block 'steps' has a line not numbered '1. '", slug, lang))
        if block == "now" and any(len(line) > NOW_LINE_MAX for line in lines):
            problems.append(Problem(f"a 'now' line is over {NOW_LINE_MAX} characters", slug, lang))
        limit = BLOCK_MAX.get(block)
        if limit and len(text) > limit:
            problems.append(
                Problem(f"block {block!r} is {len(text)} characters (> {limit})", slug, lang)
            )
    return problems


def _outside_blocks(renderer: ManualRenderer, lang: str, name: str) -> bool:
    """True when the template has text outside its blocks (only comments may be there)."""
    assert renderer.env.loader is not None
    source = renderer.env.loader.get_source(renderer.env, f"{lang}/{name}.j2")[0]
    for node in renderer.env.parse(source).body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not (isinstance(child, nodes.TemplateData) and not child.data.strip()):
                    return True
    return False


def _tags(text: str) -> set[str]:
    return {m.group(1).lower() for m in _TAG.finditer(text)}


def _templates(catalog: Catalog, renderer: ManualRenderer, templates_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    for lang in LANGS:
        names = {p.stem for p in (templates_dir / lang).glob("*.j2")}
        for orphan in sorted(names - set(catalog.slugs) - {HANDBOOK}):
            if not orphan.startswith("_"):
                problems.append(Problem(f"template {orphan}.j2 has no catalogue entry", None, lang))
        for s in catalog:
            if s.slug not in names:
                problems.append(Problem("template missing", s.slug, lang))
                continue
            try:
                blocks = renderer.blocks(lang, s.slug)
                manual = renderer.render_manual(s.slug, lang)
                renderer.render_card(s.slug, lang)
            except (TemplateError, ValueError, KeyError) as exc:
                problems.append(Problem(f"does not render: {exc}", s.slug, lang))
                continue
            if _outside_blocks(renderer, lang, s.slug):
                problems.append(Problem("text outside the blocks", s.slug, lang))
            problems += _format(blocks, s.slug, lang)
            for block in REQUIRED_BLOCKS[s.kind]:
                if block not in blocks:
                    problems.append(Problem(f"missing block {block!r} ({s.kind})", s.slug, lang))
            now = blocks.get("now", "")
            if len(now) > NOW_BLOCK_MAX:
                problems.append(
                    Problem(
                        f"'now' block is {len(now)} characters (> {NOW_BLOCK_MAX})", s.slug, lang
                    )
                )
            lines = [line for line in now.split("\n") if line.strip()]
            if not NOW_LINES[0] <= len(lines) <= NOW_LINES[1]:
                problems.append(Problem(f"'now' block has {len(lines)} lines", s.slug, lang))
            first = utf16_len(manual.pages[0])
            if first > FIRST_SCREEN_MAX:
                problems.append(
                    Problem(f"first screen is {first} units (> {FIRST_SCREEN_MAX})", s.slug, lang)
                )
            for n in s.numbers:
                if n not in strip_tags(manual.pages[0]):
                    problems.append(
                        Problem(f"number {n} missing on the first screen", s.slug, lang)
                    )
            problems += _page_problems(manual.keys, manual.pages, s.slug, lang)
    return problems


def _page_problems(
    keys: tuple[str, ...], pages: tuple[str, ...], slug: str, lang: str
) -> list[Problem]:
    problems: list[Problem] = []
    for key, page in zip(keys, pages, strict=True):
        size = utf16_len(page)
        if size > MESSAGE_LIMIT:
            problems.append(
                Problem(f"page {key!r} is {size} units (> {MESSAGE_LIMIT})", slug, lang)
            )
        bad = _tags(page) - ALLOWED_TAGS
        if bad:
            problems.append(Problem(f"page {key!r} uses tags {sorted(bad)}", slug, lang))
    return problems


def _handbook(renderer: ManualRenderer, templates_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    for lang in LANGS:
        if not (templates_dir / lang / f"{HANDBOOK}.j2").exists():
            problems.append(Problem("template missing", HANDBOOK, lang))
            continue
        try:
            handbook = renderer.render_handbook(lang)
        except TemplateError as exc:
            problems.append(Problem(f"does not render: {exc}", HANDBOOK, lang))
            continue
        if len(handbook.pages) < HANDBOOK_MIN_BLOCKS:
            problems.append(Problem(f"only {len(handbook.pages)} pages", HANDBOOK, lang))
        problems += _page_problems(handbook.keys, handbook.pages, HANDBOOK, lang)
    return problems


def check_catalog(
    catalog: Catalog | None = None, templates_dir: Path = TEMPLATES_DIR
) -> list[Problem]:
    """Return every problem of the catalogue and its templates (empty list: all good)."""
    catalog = catalog or load_catalog()
    renderer = ManualRenderer(catalog, templates_dir)
    return (
        _metadata(catalog)
        + _keywords(catalog)
        + _word_lists(catalog)
        + _names(catalog)
        + _templates(catalog, renderer, templates_dir)
        + _handbook(renderer, templates_dir)
    )


def count_rendered(
    catalog: Catalog | None = None, templates_dir: Path = TEMPLATES_DIR
) -> dict[str, int]:
    """Return, per language, how many catalogue scenarios have a template that renders."""
    catalog = catalog or load_catalog()
    renderer = ManualRenderer(catalog, templates_dir)
    counts = {lang: 0 for lang in LANGS}
    for lang in LANGS:
        for s in catalog:
            try:
                renderer.render_manual(s.slug, lang)
            except (TemplateError, ValueError, KeyError):
                continue
            counts[lang] += 1
    return counts
