"""What the v2 collection controllers share: parameter checks and text bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pecan
from pecan import rest
from wsme import types as wtypes

from mistral.api import contract, middleware
from mistral.api.controllers.resource import Resource
from mistral.api.errors import RequestError
from mistral.services import definitions


def flag(params: Mapping[str, Any], name: str) -> bool:
    """A query flag such as ``?skip_validation`` (present, or true/false)."""
    if name not in params:
        return False
    value = str(params[name]).lower()
    if value in ("", "true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise RequestError(f"'{name}' must be true or false, got '{params[name]}'")


def text_body() -> str:
    text = pecan.request.text
    if not text or not text.strip():
        raise RequestError("The request body is empty; it must be the YAML definition")
    return text


class Validation(Resource):
    """Whether a definition is valid, and why not."""

    valid = bool
    error = wtypes.text


class ValidateController(rest.RestController):
    """``POST .../validate``: 200 with ``{"valid": ...}`` whatever the document holds."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @contract.expose(
        "Check a YAML document without storing it", body=contract.Text("definition"), returns=Validation
    )
    def post(self, **params: Any) -> dict[str, Any]:
        text = pecan.request.text or ""
        try:
            definitions.validate(self.kind, text)
        except Exception as error:  # noqa: BLE001 - every failure is reported as "not valid"
            return {"valid": False, "error": str(error)}
        return {"valid": True}


def json_body(allowed: Iterable[str]) -> dict[str, Any]:
    """The JSON object in the request body; an unknown attribute is a 400 naming it."""
    try:
        body = middleware.request_json(pecan.request)
    except ValueError as error:
        raise RequestError(f"The request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise RequestError(f"Unknown attribute for the request body: {', '.join(unknown)}")
    return body
