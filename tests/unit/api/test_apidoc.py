"""The API document generator: routes from the controller tree, schemas from the WSME types."""

from __future__ import annotations

from typing import Any

import pytest
from pecan import rest

from mistral.api import contract, errors
from mistral.api.apidoc import document, routes
from mistral.api.controllers.root import RootController
from mistral.api.controllers.v2 import resources


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document.build(RootController(), "1.0")


def test_operation_ids_are_unique(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_definition_uploads_are_text_and_answers_keep_json_fields_nested(doc: dict[str, Any]) -> None:
    post = doc["paths"]["/v2/workflows"]["post"]
    assert post["requestBody"]["content"]["text/plain"]["schema"]["type"] == "string"
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["workflows"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/WorkflowPlain"},
    }
    schemas = doc["components"]["schemas"]
    assert schemas["WorkflowPlain"]["properties"]["interface"]["type"] == ["object", "null"]
    assert schemas["Workflow"]["properties"]["interface"]["type"] == ["string", "null"]


def test_path_and_query_parameters_come_from_signatures_and_contracts(doc: dict[str, Any]) -> None:
    get = doc["paths"]["/v2/tasks/{task_ex_id}/action_executions/{action_ex_id}"]["get"]
    assert [(p["name"], p["in"]) for p in get["parameters"]] == [
        ("task_ex_id", "path"),
        ("action_ex_id", "path"),
        ("fields", "query"),
    ]
    listing = {p["name"]: p["schema"] for p in doc["paths"]["/v2/executions"]["get"]["parameters"]}
    assert listing["limit"] == {"type": "integer", "minimum": 1}
    assert listing["all_projects"] == {"type": "boolean"}
    assert listing["workflow_name"] == {"type": "string"}


def test_errors_answer_with_the_fault_body(doc: dict[str, Any]) -> None:
    responses = doc["paths"]["/v2/executions/{wf_ex_id}"]["delete"]["responses"]
    assert set(responses) == {"204", "400", "401", "403", "404"}
    fault = doc["components"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert fault == {"$ref": "#/components/schemas/Fault"}
    assert doc["components"]["schemas"]["Fault"]["required"] == ["faultstring"]


def test_only_the_document_is_public(doc: dict[str, Any]) -> None:
    assert doc["security"] == [{"keystone": []}]
    public = [(p, m) for p, ops in doc["paths"].items() for m, op in ops.items() if op.get("security") == []]
    assert public == [(document.DOCUMENT_PATH, "get")]


def test_a_method_without_contract_is_refused() -> None:
    class Bare(rest.RestController):
        @errors.endpoint()
        def get_all(self, **params: Any) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="Bare.get_all has no contract"):
        list(routes.walk(Bare(), "/v2/bare"))


def test_optional_segments_give_both_paths() -> None:
    class Things(rest.RestController):
        @contract.expose("one", returns=resources.Workflow)
        def get_one(self, name: str, *namespace: str, **params: Any) -> dict[str, Any]:
            return {}

        @contract.expose("put", returns=resources.Workflow)
        def put(self, name: str | None = None, **params: Any) -> dict[str, Any]:
            return {}

    found = [(r.method, r.path) for r in routes.walk(Things(), "/v2/things")]
    assert found == [
        ("get", "/v2/things/{name}"),
        ("get", "/v2/things/{name}/{namespace}"),
        ("put", "/v2/things"),
        ("put", "/v2/things/{name}"),
    ]
