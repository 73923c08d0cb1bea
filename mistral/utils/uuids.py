"""UUID helpers: an identifier in the API may be a name or an id."""

from __future__ import annotations

import uuid


def is_uuid_like(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value).lower()
    except (TypeError, ValueError, AttributeError):
        return False


def generate() -> str:
    return str(uuid.uuid4())
