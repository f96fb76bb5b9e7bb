"""Small JSON helpers shared by the sandbox modules."""

from __future__ import annotations

from typing import Any


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` without keys whose value is None."""
    return {k: v for k, v in data.items() if v is not None}
