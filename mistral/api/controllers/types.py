"""WSME types shared by the resources."""

from __future__ import annotations

import json
from typing import Any

from wsme import types as wtypes

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


#: A dict given as a dict or as JSON text; anything else is an ``InputError`` (a 400) naming the field.
parse_json_object = json_objects.parse_json_object
