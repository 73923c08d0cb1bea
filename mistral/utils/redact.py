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
