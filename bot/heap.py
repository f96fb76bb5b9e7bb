"""Garbage-collector settings of a worker, tuned for a surge.

A started worker holds about 320 000 objects (aiogram's types, SQLAlchemy's compiled
statements, the classifier, the templates), and a surge keeps thousands of updates in flight on
top of them. With CPython's default thresholds (700, 10, 10) a 300-report surge cost about
0.8 s of collector time, a tenth of the worker's CPU, including a full pass of 150-350 ms
during which every update in flight waited. Frozen after start-up, the start-up objects are
never walked again, and with a young generation of 50 000 allocations the same surge runs
only a few young passes and no full one. Measured with ``benchmarks`` (docs/performance.md).
"""

from __future__ import annotations

import gc

YOUNG_GENERATION = 50_000  # allocations between young collections (CPython's default: 700)
MIDDLE_GENERATION = 20  # young collections between middle ones (default: 10)
OLD_GENERATION = 10  # middle collections between full ones (default: 10)


def tune_garbage_collector() -> None:
    """Freeze what start-up left alive and raise the collection thresholds (see module doc)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, MIDDLE_GENERATION, OLD_GENERATION)
