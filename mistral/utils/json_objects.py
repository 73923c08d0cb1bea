"""A JSON object that a user hands in, as a dict or as JSON text (Mistral's clients send text)."""

from __future__ import annotations

from typing import Any

from mistral.exceptions import InputError
from mistral.utils import nesting


def parse_json_object(value: Any, what: str) -> dict[str, Any]:
    """A dict given as a dict or as a JSON string; anything else is an InputError naming ``what``."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = nesting.loads_json(value)
        except ValueError as error:
            raise InputError(f"Invalid JSON in '{what}': {error}") from error
    if not isinstance(value, dict):
        raise InputError(f"'{what}' must be a JSON object, got {type(value).__name__}")
    return value
