"""``/v2/workbooks``."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import contract, listing, policy
from mistral.api.controllers.v2 import base, resources
from mistral.db import api as db_api
from mistral.services import definitions

FILTERS = ("name", "namespace", "definition", "tags", "scope", "created_at", "updated_at")

PLAIN = contract.One(resources.Workbook, plain=True)


class WorkbooksController(rest.RestController):
    validate = base.ValidateController("workbook")

    @contract.expose(
        "List workbooks",
        query=contract.list_query(FILTERS),
        returns=contract.ListOf("workbooks", contract.One(resources.Workbook), paged=True),
    )
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, resources.Workbook, FILTERS)
        return listing.envelope(
            "workbooks",
            db_api.list_workbooks(q),
            q,
            fields,
            params,
            lambda obj: resources.Workbook.from_model(obj, fields).to_json(),
        )

    @contract.expose(
        "Get a workbook by name", query=(contract.NAMESPACE, contract.FIELDS), returns=resources.Workbook
    )
    def get_one(self, name: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:get")
        fields = resources.Workbook.check_fields(listing.csv(params.get("fields")))
        workbook = db_api.get_workbook(name, params.get("namespace", ""))
        return resources.Workbook.from_model(workbook, fields).to_json()

    @contract.expose(
        "Create a workbook from a YAML document",
        status=201,
        query=contract.DEFINITION_QUERY,
        body=contract.Text("workbook"),
        returns=PLAIN,
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:create", scope=params.get("scope"))
        workbook = definitions.create_workbook(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return resources.Workbook.from_model(workbook).to_plain()

    @contract.expose(
        "Update a workbook from a YAML document",
        query=contract.DEFINITION_QUERY,
        body=contract.Text("workbook"),
        returns=PLAIN,
    )
    def put(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:update", scope=params.get("scope"))
        workbook = definitions.update_workbook(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return resources.Workbook.from_model(workbook).to_plain()

    @contract.expose(
        "Delete a workbook; its workflows and actions stay", status=204, query=(contract.NAMESPACE,)
    )
    def delete(self, name: str, **params: Any) -> None:
        policy.enforce("workbooks:delete")
        definitions.delete_workbook(name, params.get("namespace", ""))
