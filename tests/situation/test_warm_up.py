"""A worker builds its classifier and manual renderer before the first citizen writes."""

from __future__ import annotations

from manuals.classify import get_classifier
from manuals.render import get_renderer
from situation.scenarios import warm_up


def test_warm_up_builds_the_classifier_and_renders_a_manual_in_both_languages() -> None:
    get_classifier.cache_clear()
    get_renderer.cache_clear()

    warm_up()

    assert get_classifier.cache_info().currsize == 1
    assert get_renderer.cache_info().currsize == 1
    rendered = {lang for (_slug, lang) in get_renderer()._manuals}
    assert rendered == {"ko", "en"}
