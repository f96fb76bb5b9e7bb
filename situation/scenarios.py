"""What the domain needs from the manuals package: classify, titles, manuals, clustering rules.

Usage::

    guess = classify_report("아파트에 불이 났어요")     # Guess(candidates=("fire", ...), ...)
    manual("fire", "ko").pages[0]                           # page 1 of the fire manual (HTML)
    cluster_rule("wildfire").radius_m                      # wider than for a house fire
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from manuals.catalog import load_catalog
from manuals.classify import (
    Classification,
    classify,
    continues_situation,
    holds_citizen,
    only_closings,
    urgent_signals,
)
from manuals.render import render_manual, render_urgent_prompt
from situation.clustering import ClusterRule


@dataclass(frozen=True)
class Guess:
    """The classifier's answer: up to three scenario slugs, best first."""

    candidates: tuple[str, ...]
    score: float | None
    confident: bool


@lru_cache(maxsize=256)  # a message is classified for its urgency, to file it, to answer it
def _classified(text: str) -> Classification:
    return classify(text)


def classify_report(text: str) -> Guess:
    """Return the likeliest scenarios for a citizen's words."""
    result = _classified(text)
    top = result.top
    return Guess(
        candidates=result.slugs[:3],
        score=top.score if top is not None else None,
        confident=result.confident and top is not None,
    )


@dataclass(frozen=True)
class Manual:
    """A manual's pages (Telegram HTML) and the short label of each page."""

    pages: tuple[str, ...]
    labels: tuple[str, ...]


def manual(slug: str, lang: str) -> Manual | None:
    """Return the manual for ``slug`` in ``lang``, or None if the catalogue has none."""
    if load_catalog().get(slug) is None:
        return None
    rendered = render_manual(slug, lang)
    if not rendered.pages:
        return None
    return Manual(pages=tuple(rendered.pages), labels=tuple(rendered.labels))


def goes_on(text: str) -> bool:
    """Whether a follow-up's words say the citizen's own situation goes on ("still", "아직")."""
    return continues_situation(text)


def holds_reporter(text: str) -> bool:
    """Whether a report's words hold its citizen in the situation (they are trapped in it)."""
    return holds_citizen(text)


def only_closing_words(text: str) -> bool:
    """Whether the words only close a conversation ("thanks", "ok", "네 감사합니다")."""
    return only_closings(text)


def urgent_prompt(text: str, lang: str) -> str | None:
    """Return the "call 119/112 now" prompt if the words carry an urgent signal, else None."""
    signals = _classified(text).urgent  # the classification that files the words has them
    if not signals:
        return None
    return render_urgent_prompt(signals, lang)


def urgent_prompt_for_edit(before: str, after: str, lang: str) -> str | None:
    """Return the "call 119/112 now" prompt if edited words carry a signal the old ones lacked."""
    signals = urgent_signals(after)
    if not set(signals) - set(urgent_signals(before)):
        return None
    return render_urgent_prompt(signals, lang)


def warm_up() -> None:
    """Build the classifier and the manual renderer now, so the first citizen does not wait.

    Built lazily they cost the first report of a fresh worker about 0.3 s of the event loop,
    which every update behind it waits for (a surge starts exactly then).
    """
    classify_report("")
    urgent_signals("")
    first = load_catalog().scenarios[0].slug
    for lang in ("ko", "en"):
        manual(first, lang)


def known_scenario(slug: str) -> bool:
    """Whether the catalogue has this scenario."""
    return load_catalog().get(slug) is not None


def related(first: str, second: str) -> bool:
    """Whether two scenarios are the same or related (either lists the other)."""
    if first == second:
        return True
    catalog = load_catalog()
    one, other = catalog.get(first), catalog.get(second)
    return (one is not None and second in one.related) or (
        other is not None and first in other.related
    )


def title(slug: str, lang: str) -> str:
    """Return the scenario's icon and name in ``lang``."""
    scenario = load_catalog().get(slug)
    return scenario.title(lang) if scenario is not None else slug


def cluster_rule(slug: str | None) -> ClusterRule:
    """Return how close and how recent reports of ``slug`` must be to join one incident."""
    scenario = load_catalog().get(slug) if slug else None
    if scenario is None:
        return ClusterRule()
    return ClusterRule(
        radius_m=float(scenario.radius_m), window=timedelta(minutes=scenario.window_minutes)
    )


def default_priority(slug: str | None, *, urgent: bool) -> str:
    """Return the starting priority: P1 for urgent words, P2 urgent scenarios, else P3."""
    if urgent:
        return "P1"
    scenario = load_catalog().get(slug) if slug else None
    if scenario is not None and scenario.urgent:
        return "P2"
    return "P3"
