"""Masking secrets before anything is logged."""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(r"pass(word)?|secret|token|private_key|auth|credential", re.IGNORECASE)
MASK = "***"


def redact(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys masked."""
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(k, str) and SECRET_KEY.search(k) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class masked:  # noqa: N801 - used like a function, in log calls
    """``value`` redacted only when a log record is actually written.

    Log calls below the active level then cost nothing, which matters on the
    paths every action takes.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(redact(self.value))

    __repr__ = __str__
