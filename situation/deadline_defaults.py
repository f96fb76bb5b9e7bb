"""Default acknowledgement deadlines by priority, kept free of heavy imports.

Usage::

    minutes = DEFAULT_ACK_MINUTES["P1"]   # 2: a P1 incident must be acknowledged in 2 minutes

``bot.settings`` reads these at start-up without loading the situation room.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ACK_MINUTES: Mapping[str, float] = {"P1": 2, "P2": 10, "P3": 30, "P4": 120}
