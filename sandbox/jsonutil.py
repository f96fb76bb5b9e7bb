"""Small JSON helpers shared by the sandbox modules."""

from __future__ import annotations

from typing import Any


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` without keys whose value is None."""
    return {k: v for k, v in data.items() if v is not None}


def copy_json(value: Any) -> Any:
    """Return a deep copy of a JSON value (dicts, lists and scalars).

    ``copy.deepcopy`` keeps a memo for shared and cyclic references, which JSON cannot hold;
    without it this copy costs a fraction as much, and the sandbox copies every message it
    sends, stores or delivers.
    """
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value
