"""The OpenAPI 3.1 document: the routes of the controller tree, each with its contract's types."""

from __future__ import annotations

import re
from typing import Any

from mistral.api import contract
from mistral.api.apidoc import routes, schemas
from mistral.api.controllers.resource import Resource

#: Where the document itself is served (outside authentication, see ``serve``).
DOCUMENT_PATH = "/v2/openapi.json"
JSON = "application/json"
#: Answers any request may get, besides the operation's own.
COMMON_ERRORS = {
    "400": "Bad input: an unknown or malformed parameter, an invalid body or definition",
    "401": "No valid token (X-Auth-Token)",
    "403": "The policy does not allow this to the caller",
    "404": "Nothing with that name or id (in the caller's projects)",
}
WRITE_ERRORS = {
    "409": "A definition or execution with that name or id exists already",
    "413": "The request body is larger than [api] max_request_body_kb",
}


class _Builder:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Fault": schemas.FAULT, "AuthFault": schemas.AUTH_FAULT}

    def ref(self, resource: type[Resource], *, plain: bool) -> dict[str, str]:
        name = resource.__name__ + ("Plain" if plain else "")
        if name not in self.components:
            self.components[name] = schemas.resource_schema(resource, plain=plain)
        return {"$ref": f"#/components/schemas/{name}"}

    def answer(self, returns: contract.Returns) -> dict[str, Any]:
        if isinstance(returns, contract.One):
            return self.ref(returns.resource, plain=returns.plain)
        if isinstance(returns, contract.ListOf):
            properties: dict[str, Any] = {
                returns.plural: {"type": "array", "items": self.answer(returns.item)}
            }
            if returns.paged:
                properties["next"] = {"type": "string", "description": "The URL of the next page"}
            return {
                "type": "object",
                "required": [returns.plural],
                "properties": properties,
                "additionalProperties": False,
            }
        if isinstance(returns, contract.OneOf):
            return {"anyOf": [self.answer(choice) for choice in returns.choices]}
        if isinstance(returns, contract.FreeForm):
            return {"type": "object", "description": returns.description}
        raise TypeError(f"No schema for the answer {returns!r}")

    def request_body(self, body: contract.Text | contract.Body) -> dict[str, Any]:
        if isinstance(body, contract.Text):
            schema = {"type": "string", "description": f"The YAML {body.kind} definition"}
            return {"required": True, "content": {"text/plain": {"schema": schema}}}
        schema = schemas.resource_schema(body.resource, request=True, only=body.fields)
        return {"required": True, "content": {JSON: {"schema": schema}}}

    def operation(self, route: routes.Route) -> dict[str, Any]:
        c = route.contract
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_params
        ]
        parameters += [
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "schema": p.schema,
                "description": p.description,
            }
            for p in c.query
        ]
        operation: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": c.summary,
            "x-handler": route.handler,
            "parameters": parameters,
            "responses": self.responses(route),
        }
        if c.body is not None:
            operation["requestBody"] = self.request_body(c.body)
        return operation

    def responses(self, route: routes.Route) -> dict[str, Any]:
        c = route.contract
        ok: dict[str, Any] = {"description": c.summary}
        if c.returns is not None:
            ok["content"] = {JSON: {"schema": self.answer(c.returns)}}
        answers = {str(c.status): ok}
        errors = {**COMMON_ERRORS, **(WRITE_ERRORS if route.method in ("post", "put") else {})}
        for status in errors:
            answers[status] = {"$ref": f"#/components/responses/{status}"}
        return answers


def _error_responses() -> dict[str, Any]:
    """The error answers, shared by every operation that may give them."""
    return {
        status: {
            "description": why,
            "content": {
                JSON: {
                    "schema": {"$ref": f"#/components/schemas/{'AuthFault' if status == '401' else 'Fault'}"}
                }
            },
        }
        for status, why in {**COMMON_ERRORS, **WRITE_ERRORS}.items()
    }


def _operation_id(route: routes.Route) -> str:
    """``get_v2_workflows_identifier``: unique, as method and path are."""
    words = re.findall(r"[A-Za-z0-9]+", route.path)
    return "_".join([route.method, *words])


def build(root: Any, version: str) -> dict[str, Any]:
    """The document of every route under the controller ``root``."""
    builder = _Builder()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes.walk(root):
        paths.setdefault(route.path, {})[route.method] = builder.operation(route)
    paths[DOCUMENT_PATH] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Workflow service (OpenStack Mistral v2 API)",
            "version": version,
            "description": "Generated from the API's controllers and resource types.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(builder.components.items())),
            "responses": _error_responses(),
            "securitySchemes": {"keystone": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}},
        },
        "security": [{"keystone": []}],
    }
