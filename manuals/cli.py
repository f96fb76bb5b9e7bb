"""The ``jikimi manuals`` subcommands: classify a text, show a manual, check the catalogue.

``bot/cli.py`` wires them in with ``add_subcommands(subparsers)``; each handler takes the
parsed arguments and returns the exit code::

    jikimi manuals classify "불낫어요" --json
    jikimi manuals show fire --lang en
    jikimi manuals check
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from manuals.catalog import LANGS, load_catalog
from manuals.check import check_catalog, count_rendered
from manuals.classify import classify
from manuals.render import HANDBOOK, render_handbook, render_manual, strip_tags


def add_subcommands(subparsers: Any) -> None:
    """Register ``classify``, ``show`` and ``check`` on an argparse subparsers object."""
    p = subparsers.add_parser("classify", help="rank the scenarios for a citizen's text")
    p.add_argument("text", nargs="+", help="the message (several words are joined by spaces)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {slug, code, score}")
    p.add_argument("--lang", choices=LANGS, default=None, help="language hint (default: detect)")
    p.set_defaults(handler=run_classify)

    p = subparsers.add_parser("show", help="print a rendered manual (or 'handbook')")
    p.add_argument("slug", help="scenario slug, e.g. fire, or 'handbook'")
    p.add_argument("--lang", choices=LANGS, default="ko")
    p.add_argument("--plain", action="store_true", help="strip the HTML tags")
    p.set_defaults(handler=run_show)

    p = subparsers.add_parser("check", help="validate the whole catalogue (non-zero on problems)")
    p.set_defaults(handler=run_check)


def run_classify(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the ranked scenarios for ``args.text`` (a table, or JSON with ``--json``)."""
    out = out or sys.stdout
    text = " ".join(args.text)
    result = classify(text, getattr(args, "lang", None))
    if args.json:
        print(json.dumps([m.as_dict() for m in result.matches], ensure_ascii=False), file=out)
        return 0
    catalog = load_catalog()
    if not result.matches:
        print("no scenario matched", file=out)
    for rank, m in enumerate(result.matches, 1):
        s = catalog.by_slug(m.slug)
        print(f"{rank}. {m.slug:<20} {m.code}  {m.score:.3f}  {s.name_ko} / {s.name_en}", file=out)
    print(f"confident: {'yes' if result.confident else 'no'}", file=out)
    if result.urgent:
        print(f"urgent signals: {', '.join(result.urgent)}", file=out)
    return 0


def run_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print every page of a manual with its button label; exit 2 for an unknown slug."""
    out = out or sys.stdout
    if args.slug == HANDBOOK:
        manual = render_handbook(args.lang)
    elif args.slug in load_catalog():
        manual = render_manual(args.slug, args.lang)
    else:
        print(f"unknown scenario {args.slug!r}", file=sys.stderr)
        return 2
    for key, label, page in zip(manual.keys, manual.labels, manual.pages, strict=True):
        print(f"----- [{key}] {label} -----", file=out)
        print(strip_tags(page) if getattr(args, "plain", False) else page, file=out)
    return 0


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Validate the catalogue; print the scenario count per language and every problem."""
    out = out or sys.stdout
    problems = check_catalog()
    counts = count_rendered()
    total = len(load_catalog())
    for lang in LANGS:
        print(f"{lang}: {counts[lang]}/{total} scenarios render", file=out)
    for p in problems:
        print(f"problem: {p}", file=out)
    print("ok" if not problems else f"{len(problems)} problem(s)", file=out)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Run the manuals subcommands standalone (``python -m manuals.cli check``)."""
    parser = argparse.ArgumentParser(prog="python -m manuals.cli")
    add_subcommands(parser.add_subparsers(dest="action", metavar="ACTION", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
