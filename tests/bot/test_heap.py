"""A started worker freezes its start-up heap and collects garbage less often (bot.heap)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.heap import YOUNG_GENERATION, tune_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """Give the test process its collector settings back afterwards."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    """Objects alive at start are exempt from collection; a young pass waits 50 000 objects."""
    survivor: list[list[str]] = [["alive at start-up"]]
    assert gc.is_tracked(survivor)
    tune_garbage_collector()
    assert gc.get_threshold() == (YOUNG_GENERATION, 20, 10)
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())  # frozen: never walked again


@pytest.mark.usefixtures("restored_collector")
def test_cyclic_garbage_made_later_is_still_collected() -> None:
    """Freezing does not stop the collector: a cycle created after start-up is freed."""
    tune_garbage_collector()

    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first
    del first, second
    assert gc.collect() >= 2
