"""A bound on how deeply user data (JSON or YAML) may nest.

Parsers, validators and the expression engines recurse once (or more) per
level; data deeper than this bound is refused where it enters, with a message
naming the limit, instead of failing later with a RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

#: Far more than any workflow or its data needs, and far below Python's recursion limit.
MAX_DEPTH = 100


class TooDeepError(ValueError):
    """Data nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def check_depth(value: Any) -> None:
    """Raise TooDeepError when lists and dicts in ``value`` nest deeper than the limit."""
    # Iterative on purpose: the point is not to recurse over hostile data.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise TooDeepError()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` that refuses too deep data with a ValueError (TooDeepError) naming the limit."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeepError() from None
    check_depth(value)
    return value
