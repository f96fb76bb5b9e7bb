"""Measure the classifier on the labelled message set and print the figures.

Usage::

    python -m manuals.evaluate                 # top-1 / top-3, per language and category
    python -m manuals.evaluate --errors        # also list every message it gets wrong
    python -m manuals.evaluate --path my.tsv

The labelled set (``tests/manuals/labelled_messages.tsv``) holds one message a line:
``expected_slug <TAB> lang <TAB> text``; lines starting with ``#`` are comments.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from manuals.catalog import CATEGORIES, load_catalog
from manuals.classify import Classification, classify

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "tests" / "manuals" / "labelled_messages.tsv"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled message."""

    slug: str
    lang: str
    text: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """A labelled message with the classifier's answer."""

    item: Labelled
    result: Classification

    @property
    def top1(self) -> bool:
        """True when the best match is the expected scenario."""
        return bool(self.result.matches) and self.result.matches[0].slug == self.item.slug

    @property
    def top3(self) -> bool:
        """True when the expected scenario is among the top three."""
        return self.item.slug in self.result.slugs


@dataclass(frozen=True, slots=True)
class Figures:
    """Accuracy figures over a group of outcomes."""

    n: int
    top1: float
    top3: float
    confident: float  # share of messages answered confidently
    confident_precision: float  # top-1 accuracy among the confident answers


def read_labelled(path: Path = DEFAULT_PATH) -> list[Labelled]:
    """Read a labelled TSV file (slug, lang, text; '#' comments)."""
    items: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path}:{number}: expected 3 tab-separated fields")
        items.append(Labelled(*parts))
    return items


def evaluate(items: Iterable[Labelled]) -> list[Outcome]:
    """Classify every labelled message."""
    return [Outcome(item, classify(item.text, item.lang)) for item in items]


def figures(outcomes: list[Outcome]) -> Figures:
    """Return top-1, top-3 and confidence figures for a list of outcomes."""
    n = len(outcomes)
    if not n:
        return Figures(0, 0.0, 0.0, 0.0, 0.0)
    confident = [o for o in outcomes if o.result.confident]
    return Figures(
        n=n,
        top1=sum(o.top1 for o in outcomes) / n,
        top3=sum(o.top3 for o in outcomes) / n,
        confident=len(confident) / n,
        confident_precision=(sum(o.top1 for o in confident) / len(confident)) if confident else 0.0,
    )


def report(outcomes: list[Outcome], *, errors: bool = False) -> str:
    """Return the printable report: overall, per language, per category, optional errors."""
    catalog = load_catalog()
    lines = [
        "| set | n | top-1 | top-3 | confident | top-1 when confident |",
        "|---|---|---|---|---|---|",
    ]

    def row(name: str, group: list[Outcome]) -> None:
        f = figures(group)
        lines.append(
            f"| {name} | {f.n} | {f.top1:.1%} | {f.top3:.1%} | {f.confident:.1%} "
            f"| {f.confident_precision:.1%} |"
        )

    row("all", outcomes)
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lang[o.item.lang].append(o)
        by_category[catalog.by_slug(o.item.slug).category].append(o)
    for lang in sorted(by_lang):
        row(f"lang {lang}", by_lang[lang])
    for category in CATEGORIES:
        row(category, by_category[category])
    if errors:
        lines.append("")
        for o in outcomes:
            if not o.top1:
                got = ", ".join(f"{m.slug}:{m.score:.2f}" for m in o.result.matches) or "-"
                mark = "top3" if o.top3 else "MISS"
                lines.append(f"{mark}\t{o.item.slug}\t{o.item.text}\t-> {got}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the accuracy figures of the classifier on a labelled set."""
    parser = argparse.ArgumentParser(prog="python -m manuals.evaluate")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--errors", action="store_true", help="list the misclassified messages")
    args = parser.parse_args(argv)
    print(report(evaluate(read_labelled(args.path)), errors=args.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
