"""Accuracy of the classifier on the labelled citizen messages (figures go in the README)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from manuals.catalog import load_catalog
from manuals.evaluate import evaluate, figures, read_labelled, report

HERE = Path(__file__).parent
LABELLED = HERE / "labelled_messages.tsv"
HELDOUT = HERE / "labelled_heldout.tsv"
HELDOUT2 = HERE / "labelled_heldout2.tsv"
HELDOUT3 = HERE / "labelled_heldout3.tsv"
FALSE_FRIENDS = HERE / "false_friends.tsv"


def test_labelled_set_is_big_and_covers_every_scenario() -> None:
    items = read_labelled(LABELLED)
    langs = Counter(item.lang for item in items)
    assert len(items) >= 320
    assert langs["ko"] >= 200 and langs["en"] >= 100
    per_slug = Counter(item.slug for item in items)
    catalog = load_catalog()
    assert set(per_slug) <= set(catalog.slugs)
    assert all(per_slug[slug] >= 3 for slug in catalog.slugs), [
        slug for slug in catalog.slugs if per_slug[slug] < 3
    ]


def test_top1_and_top3_accuracy() -> None:
    outcomes = evaluate(read_labelled(LABELLED))
    print("\n" + report(outcomes))
    f = figures(outcomes)
    assert f.top1 >= 0.90
    assert f.top3 >= 0.98


def test_heldout_accuracy() -> None:
    # The first held-out round was looked at once its figures were recorded (see README).
    outcomes = evaluate(read_labelled(HELDOUT))
    print("\n" + report(outcomes))
    f = figures(outcomes)
    assert f.top1 >= 0.90
    assert f.top3 >= 0.98


def test_second_heldout_accuracy() -> None:
    # Looked at once its figures were recorded, like the first round (see README).
    outcomes = evaluate(read_labelled(HELDOUT2))
    print("\n" + report(outcomes))
    f = figures(outcomes)
    assert f.top1 >= 0.90
    assert f.top3 >= 0.98


def test_third_heldout_accuracy() -> None:
    # Never used for tuning: a floor against regressions, not a target.
    outcomes = evaluate(read_labelled(HELDOUT3))
    print("\n" + report(outcomes))
    f = figures(outcomes)
    assert f.top1 >= 0.80
    assert f.top3 >= 0.88


def test_false_friends_are_not_confident_hits() -> None:
    for item in read_labelled(FALSE_FRIENDS):
        result = evaluate([item])[0].result
        assert item.slug not in result.slugs[:1], item.text
        assert not (result.confident and result.top and result.top.slug == item.slug), item.text
