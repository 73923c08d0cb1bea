"""Merging nested dictionaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def deep_merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """``left`` updated with ``right``; nested mappings are merged, not replaced."""
    result = dict(left)
    for key, value in right.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result
