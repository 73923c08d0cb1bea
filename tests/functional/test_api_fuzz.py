"""schemathesis over /v2/openapi.json against the server with authentication on.

Every documented operation gets ``EXAMPLES`` generated requests, sent with a project's token;
each answer must not be a 5xx and must match the document (status code, content type, body).
"""

from __future__ import annotations

from typing import Any

import hypothesis
import requests
import schemathesis
from schemathesis import checks

from mistral.api.apidoc import document
from mistral.api.controllers.root import RootController
from tests.functional.tenancy import Tenant

EXAMPLES = 100
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# NOTE: built in-process so that pytest sees one test per operation; the served document is the
# same (test_served_document_is_the_generated_one).
DOCUMENT = document.build(RootController(), "0")
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(max_examples=EXAMPLES)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_answers_as_documented(case: Any, auth_url: str, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    case.call_and_validate(base_url=auth_url, headers={"X-Auth-Token": tenants[0].token}, checks=CHECKS)


def test_served_document_is_the_generated_one(auth_url: str) -> None:
    served = requests.get(f"{auth_url}/v2/openapi.json", timeout=30).json()
    assert served["paths"] == DOCUMENT["paths"]
    assert served["components"] == DOCUMENT["components"]


def test_document_is_served_without_a_token(auth_url: str) -> None:
    resp = requests.get(f"{auth_url}/v2/openapi.json", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["openapi"].startswith("3.")
    assert requests.get(f"{auth_url}/v2/workflows", timeout=30).status_code == 401
    # Only that exact path skips authentication.
    assert requests.get(f"{auth_url}/v2/openapi.json/../workflows", timeout=30).status_code == 401
    assert requests.post(f"{auth_url}/v2/openapi.json", timeout=30).status_code == 401
