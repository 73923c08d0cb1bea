"""``/v2/workbooks``."""

from __future__ import annotations

from typing import Any

from pecan import rest

from mistral.api import errors, listing, policy
from mistral.api.controllers.v2 import base, resources
from mistral.db import api as db_api
from mistral.services import definitions

FILTERS = ("name", "namespace", "definition", "tags", "scope", "created_at", "updated_at")


class WorkbooksController(rest.RestController):
    validate = base.ValidateController("workbook")

    @errors.endpoint()
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

    @errors.endpoint()
    def get_one(self, name: str, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:get")
        base.only(("namespace", "fields"))
        fields = resources.Workbook.check_fields(listing.csv(params.get("fields")))
        workbook = db_api.get_workbook(name, params.get("namespace", ""))
        return resources.Workbook.from_model(workbook, fields).to_json()

    @errors.endpoint(status=201)
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:create", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        workbook = definitions.create_workbook(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return resources.Workbook.from_model(workbook).to_plain()

    @errors.endpoint()
    def put(self, **params: Any) -> dict[str, Any]:
        policy.enforce("workbooks:update", scope=params.get("scope"))
        base.only(("namespace", "scope", "skip_validation"))
        workbook = definitions.update_workbook(
            base.text_body(),
            scope=params.get("scope", "private"),
            namespace=params.get("namespace", ""),
            skip_validation=base.flag(params, "skip_validation"),
        )
        return resources.Workbook.from_model(workbook).to_plain()

    @errors.endpoint(status=204)
    def delete(self, name: str, **params: Any) -> None:
        policy.enforce("workbooks:delete")
        base.only(("namespace",))
        definitions.delete_workbook(name, params.get("namespace", ""))
