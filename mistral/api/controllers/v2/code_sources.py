"""``/v2/code_sources``: uploaded Python modules (text/plain bodies) that dynamic actions run.

As in Mistral 23, POST takes ``?name=`` and PUT ``?identifier=`` (name or id) in the
query, with the Python text as the body; every operation is admin-only by default.
"""

from __future__ import annotations

from typing import Any

import pecan
from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.v2.code_resources import CodeSource
from mistral.db import api as db_api
from mistral.services import code_sources

FILTERS = ("name", "namespace", "tags", "scope", "project_id", "created_at", "updated_at")
BODY = contract.Text("code source (Python text)")
SOURCE_QUERY = (contract.NAMESPACE, contract.SCOPE)


def _json(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    return CodeSource.from_model(obj, fields).to_json()


class CodeSourcesController(rest.RestController):
    @contract.expose(
        "List code sources",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("code_sources", contract.One(CodeSource), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("code_sources:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, CodeSource, FILTERS)
        return listing.envelope(
            "code_sources", db_api.list_code_sources(q), q, fields, params, lambda obj: _json(obj, fields)
        )

    @contract.expose(
        "Get a code source by name or id", query=(contract.NAMESPACE, contract.FIELDS), returns=CodeSource
    )
    def get_one(self, identifier: str, **params: Any) -> dict[str, Any]:
        policy.enforce("code_sources:get")
        fields = CodeSource.check_fields(listing.csv(params.get("fields")))
        return _json(db_api.get_code_source(identifier, params.get("namespace", "")), fields)

    @contract.expose(
        "Create a code source",
        status=201,
        query=(contract.text("name", "The code source's (module's) name"), *SOURCE_QUERY),
        body=BODY,
        returns=CodeSource,
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("code_sources:create", scope=params.get("scope"))
        created = code_sources.create_code_source(
            params.get("name"),
            pecan.request.text,
            scope=params.get("scope") or "private",
            namespace=params.get("namespace", ""),
        )
        return _json(created)

    @contract.expose(
        "Replace a code source's text (its version goes up by one)",
        query=(contract.text("identifier", "The code source's name or id"), *SOURCE_QUERY),
        body=BODY,
        returns=CodeSource,
    )
    def put(self, **params: Any) -> dict[str, Any]:
        policy.enforce("code_sources:update", scope=params.get("scope"))
        updated = code_sources.update_code_source(
            params.get("identifier"),
            pecan.request.text,
            scope=params.get("scope") or "private",
            namespace=params.get("namespace", ""),
        )
        return _json(updated)

    @contract.expose("Delete a code source and its dynamic actions", status=204, query=(contract.NAMESPACE,))
    def delete(self, identifier: str, **params: Any) -> None:
        policy.enforce("code_sources:delete")
        code_sources.delete_code_source(identifier, params.get("namespace", ""))
