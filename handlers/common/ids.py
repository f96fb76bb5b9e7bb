"""Reading a Telegram id (or a row id) typed as a command's argument."""

from __future__ import annotations

import re

# Telegram ids and our row ids are 64-bit signed integers: a longer number names nobody, and
# the database refuses to even look it up. ASCII digits only: "²" passes str.isdigit.
_LARGEST_ID = 2**63 - 1
_NUMBER = re.compile(r"-?[0-9]{1,19}")


def typed_id(word: str) -> int | None:
    """Return the word as an id if it is one (an optional minus and at most 19 ASCII digits)."""
    if _NUMBER.fullmatch(word) is None:
        return None
    number = int(word)
    return number if abs(number) <= _LARGEST_ID else None
