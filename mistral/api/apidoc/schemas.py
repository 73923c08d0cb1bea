"""JSON schemas of WSME types, as the API renders them and as it reads them."""

from __future__ import annotations

from typing import Any

from wsme import types as wtypes

from mistral.api.controllers.resource import Resource
from mistral.api.controllers.types import AnyJsonType, JsonType

#: The fault body every error answer of the API has.
FAULT = {
    "type": "object",
    "required": ["faultstring"],
    "properties": {
        "faultcode": {"type": "string", "enum": ["Client", "Server"]},
        "faultstring": {"type": "string", "description": "What is wrong with the request"},
        "debuginfo": {"type": ["string", "null"]},
    },
}
#: keystonemiddleware's answer to a request without a valid token.
AUTH_FAULT = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
            },
        }
    },
}


def _scalar(datatype: Any) -> dict[str, Any]:
    if datatype is bool:
        return {"type": "boolean"}
    if datatype is int:
        return {"type": "integer"}
    if datatype is float:
        return {"type": "number"}
    if datatype in (wtypes.text, str, wtypes.bytes):
        return {"type": "string"}
    raise TypeError(f"No JSON schema for the WSME type {datatype!r}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list) and "null" not in kind:
        return {**schema, "type": [*kind, "null"]}
    return schema


def field_schema(datatype: Any, *, plain: bool, request: bool = False) -> dict[str, Any]:
    """One attribute's schema; any attribute may be null.

    A ``JsonType`` travels as JSON text in the usual rendering, nested in the ``plain``
    one (the text/plain endpoints' answers), and may be either in a request.
    """
    if isinstance(datatype, AnyJsonType):
        return {} if plain or request else {"type": ["string", "null"], "description": "JSON text"}
    if isinstance(datatype, JsonType):
        if request:
            return {"type": ["object", "string", "null"], "description": "A JSON object, or it as JSON text"}
        if plain:
            return {"type": ["object", "null"]}
        return {"type": ["string", "null"], "description": "A JSON object as JSON text"}
    if isinstance(datatype, wtypes.Enum):
        return {"type": ["string", "null"], "enum": [*sorted(datatype.values), None]}
    if isinstance(datatype, wtypes.ArrayType):
        return _nullable({"type": "array", "items": field_schema(datatype.item_type, plain=plain)})
    return _nullable(_scalar(datatype))


def resource_schema(
    resource: type[Resource], *, plain: bool = False, request: bool = False, only: list[str] | None = None
) -> dict[str, Any]:
    """An object with the resource's attributes, none required (lists leave some out)."""
    properties = {
        attr.name: field_schema(attr.datatype, plain=plain, request=request)
        for attr in wtypes.list_attributes(resource)
        if only is None or attr.name in only
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if resource.__doc__:
        schema["description"] = resource.__doc__.strip().splitlines()[0]
    return schema
