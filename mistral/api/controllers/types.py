"""WSME types shared by the resources."""

from __future__ import annotations

import json
from typing import Any

from wsme import types as wtypes

from mistral.api.errors import RequestError
from mistral.exceptions import InputError
from mistral.utils import json_objects


class JsonType(wtypes.UserType):
    """A dict that travels as a JSON string, as Mistral's ``jsontype`` fields do."""

    basetype = wtypes.text
    name = "json"

    def validate(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_json_object(value, "value")
        if not isinstance(value, dict):
            raise ValueError(f"JSON object expected, got {type(value).__name__}")
        return value

    def frombasetype(self, value: Any) -> Any:
        return self.validate(value)

    def tobasetype(self, value: Any) -> Any:
        return None if value is None else json.dumps(value)


class AnyJsonType(JsonType):
    """Like ``JsonType`` but any JSON value (a task result may be a list or a string)."""

    name = "anyjson"

    def validate(self, value: Any) -> Any:
        return value


jsontype = JsonType()
anyjsontype = AnyJsonType()


def parse_json_object(value: Any, what: str) -> dict[str, Any]:
    """A dict given as a dict or as a JSON string; anything else is a 400 naming ``what``."""
    try:
        return json_objects.parse_json_object(value, what)
    except InputError as error:
        raise RequestError(str(error)) from error
