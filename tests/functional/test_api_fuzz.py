"""schemathesis over /v2/openapi.json against the server with authentication on.

Every documented operation gets ``EXAMPLES`` generated requests, sent with a project's token;
each answer must not be a 5xx and must match the document (status code, content type, body).
"""

from __future__ import annotations

import collections
import pathlib
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import checks

from mistral.api.apidoc import document
from mistral.api.controllers.root import RootController
from tests import polling
from tests.functional.tenancy import PROJECT_A, Tenant

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
#: Requests sent per database and operation, to check the number of examples.
SENT: collections.Counter[tuple[str, str]] = collections.Counter()
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
schema.config.generation.update(max_examples=EXAMPLES)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
# NOTE: a few minutes on SQLite, the embedded server's database; PostgreSQL found nothing more.
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_api_answers_as_documented(
    case: Any, auth_url: str, db: str, tenants: tuple[Tenant, Tenant, Tenant]
) -> None:
    SENT[db, f"{case.operation.method.upper()} {case.operation.path}"] += 1
    # NOTE: as a member, code operations would only ever meet the policy's 403.
    tenant = _code_admin(tenants[0]) if case.operation.path.startswith(ADMIN_PATHS) else tenants[0]
    case.call_and_validate(base_url=auth_url, headers={"X-Auth-Token": tenant.token}, checks=CHECKS)


def test_every_operation_with_inputs_got_enough_examples() -> None:
    if not SENT:
        pytest.skip("the fuzz tests did not run")
    takes_input = {
        f"{method.upper()} {path}"
        for path, ops in DOCUMENT["paths"].items()
        for method, op in ops.items()
        if op.get("parameters") or op.get("requestBody")
    }
    few = {key: n for key, n in SENT.items() if key[1] in takes_input and n < EXAMPLES}
    assert few == {}


def test_served_document_is_the_generated_one(auth_url: str) -> None:
    served = requests.get(f"{auth_url}/v2/openapi.json", timeout=30).json()
    # Against the OpenAPI 3.1 meta-schema.
    schemathesis.openapi.from_dict(served).validate()
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


WORKFLOW = """
version: '2.0'
fuzzed:
  input:
    - who: world
  tasks:
    greet:
      action: std.echo output="hello <% $.who %>"
      publish:
        said: <% task().result %>
"""
#: A task for an external worker: a work item to read.
QUEUED = """
version: '2.0'
queued:
  tasks:
    outside:
      action: std.external
      queue: fuzzed
"""
ACTION = """
version: '2.0'
greeting:
  base: std.echo output="hi"
"""
WORKBOOK = """
version: '2.0'
name: book
workflows:
  inner:
    tasks:
      t:
        action: std.noop
"""


CODE = """
from mistral_lib import actions


class Hello(actions.Action):
    def run(self, context):
        return "hello"
"""
DYNAMIC_ACTION = {"name": "hello", "class_name": "Hello", "code_source_name": "mod"}
#: Paths only an admin may call with the default policies.
ADMIN_PATHS = ("/v2/code_sources", "/v2/dynamic_actions", "/v2/engine_stats")


def _code_admin(a: Tenant) -> Tenant:
    return Tenant(a.url, PROJECT_A, "admin")


def _call(tenant: Tenant, method: str, path: str, status: int, **case: Any) -> Any:
    """A request through schemathesis, so that the answer is checked against the document too."""
    operation = schema[path][method]
    path_parameters = case.pop("path_parameters", {})
    response = operation.Case(path_parameters=path_parameters, **case).call_and_validate(
        base_url=tenant.url, headers={"X-Auth-Token": tenant.token}, checks=CHECKS
    )
    assert response.status_code == status, (method, path, response.text)
    return response.json() if response.content else None


def _create(a: Tenant, path: str, **case: Any) -> dict[str, Any]:
    return _call(a, "POST", path, 201, **case)


def _seed(a: Tenant, b: Tenant) -> dict[str, dict[str, str]]:
    """One of every resource in project A; the path parameters of each GET that names one."""
    text = {"media_type": "text/plain"}
    wf = _create(a, "/v2/workflows", body=WORKFLOW, **text)["workflows"][0]
    _create(a, "/v2/actions", body=ACTION, query={"namespace": "ns1"}, **text)
    _create(a, "/v2/workbooks", body=WORKBOOK, **text)
    _create(a, "/v2/environments", body={"name": "env1", "variables": {"k": "v"}, "description": "seeded"})
    _create(
        a, "/v2/cron_triggers", body={"name": "nightly", "workflow_name": "fuzzed", "pattern": "0 2 * * *"}
    )
    member = {"member_id": b.project_id}
    _create(a, "/v2/workflows/{resource_id}/members", path_parameters={"resource_id": wf["id"]}, body=member)
    event = {"name": "on_create", "workflow_id": wf["id"], "exchange": "nova", "topic": "notifications"}
    event_trigger = _create(a, "/v2/event_triggers", body={**event, "event": "compute.instance.create.end"})
    ex = _create(a, "/v2/executions", body={"workflow_name": "fuzzed", "input": {"who": "you"}})
    a.wait_done(ex["id"])
    _create(a, "/v2/action_executions", body={"name": "std.echo", "input": {"output": 1}})
    task = a.request("GET", f"/executions/{ex['id']}/tasks").json()["tasks"][0]
    action_ex = a.request("GET", f"/tasks/{task['id']}/action_executions").json()["action_executions"][0]
    _create(a, "/v2/workflows", body=QUEUED, **text)
    _create(a, "/v2/executions", body={"workflow_name": "queued"})
    item = polling.wait_for("a work item", lambda: a.request("GET", "/work_items").json()["work_items"])[0]
    # Code is an admin's business (admin-only policy defaults).
    admin = _code_admin(a)
    _call(admin, "POST", "/v2/code_sources", 201, body=CODE, query={"name": "mod"}, **text)
    _call(admin, "POST", "/v2/dynamic_actions", 201, body=DYNAMIC_ACTION)
    return {
        "/v2/code_sources/{identifier}": {"identifier": "mod"},
        "/v2/dynamic_actions/{identifier}": {"identifier": "hello"},
        "/v2/action_executions/{action_ex_id}": {"action_ex_id": action_ex["id"]},
        "/v2/actions/{identifier}": {"identifier": "std.echo"},
        "/v2/actions/{identifier}/{namespace}": {"identifier": "greeting", "namespace": "ns1"},
        "/v2/cron_triggers/{identifier}": {"identifier": "nightly"},
        "/v2/environments/{name}": {"name": "env1"},
        "/v2/event_triggers/{trigger_id}": {"trigger_id": event_trigger["id"]},
        "/v2/executions/{wf_ex_id}": {"wf_ex_id": ex["id"]},
        "/v2/executions/{wf_ex_id}/executions": {"wf_ex_id": ex["id"]},
        "/v2/executions/{wf_ex_id}/report": {"wf_ex_id": ex["id"]},
        "/v2/executions/{wf_ex_id}/spec": {"wf_ex_id": ex["id"]},
        "/v2/executions/{wf_ex_id}/tasks": {"wf_ex_id": ex["id"]},
        "/v2/executions/{wf_ex_id}/waits": {"wf_ex_id": ex["id"]},
        "/v2/work_items/{item_id}": {"item_id": item["id"]},
        "/v2/workflows/{identifier}/versions": {"identifier": wf["id"]},
        "/v2/workflows/{identifier}/versions/{number}": {"identifier": wf["id"], "number": "1"},
        "/v2/tasks/{task_ex_id}": {"task_ex_id": task["id"]},
        "/v2/tasks/{task_ex_id}/action_executions": {"task_ex_id": task["id"]},
        "/v2/tasks/{task_ex_id}/action_executions/{action_ex_id}": {
            "task_ex_id": task["id"],
            "action_ex_id": action_ex["id"],
        },
        "/v2/tasks/{task_ex_id}/executions": {"task_ex_id": task["id"]},
        "/v2/tasks/{task_ex_id}/workflow_executions": {"task_ex_id": task["id"]},
        "/v2/workbooks/{name}": {"name": "book"},
        "/v2/workflows/{identifier}": {"identifier": wf["id"]},
        "/v2/workflows/{resource_id}/members": {"resource_id": wf["id"]},
        "/v2/workflows/{resource_id}/members/{member_id}": {
            "resource_id": wf["id"],
            "member_id": b.project_id,
        },
    }


def test_existing_resources_answer_as_documented(
    auth_url: str, tenants: tuple[Tenant, Tenant, Tenant], override_conf: Any, tmp_path: pathlib.Path
) -> None:
    """Random ids find nothing: every GET is also called on real rows, and must answer 200 as documented."""
    a, b, _ = tenants
    path_parameters = _seed(a, b)
    admin = _code_admin(a)
    (tmp_path / "info.json").write_text('{"build": {"version": "1"}}')
    override_conf("api", "enable_info_endpoint", True)
    override_conf("api", "info_json_file_path", str(tmp_path / "info.json"))
    called = []
    for path, ops in DOCUMENT["paths"].items():
        if "get" not in ops:
            continue
        params = path_parameters.get(path, {})
        assert ("{" in path) == bool(params), f"no seeded row for {path}"
        case = schema[path]["GET"].Case(path_parameters=params)
        token = admin.token if path.startswith(ADMIN_PATHS) else a.token
        response = case.call_and_validate(base_url=auth_url, headers={"X-Auth-Token": token}, checks=CHECKS)
        assert response.status_code == 200, (path, response.text)
        called.append(path)
    lists = {
        "workflows", "actions", "workbooks", "environments", "cron_triggers", "event_triggers", "executions",
        "tasks", "action_executions", "work_items",
    }  # fmt: skip
    for plural in lists:
        assert a.request("GET", f"/{plural}").json()[plural], f"nothing seeded in /{plural}"
    assert len(called) > 25


def test_updates_and_deletes_answer_as_documented(
    auth_url: str, tenants: tuple[Tenant, Tenant, Tenant]
) -> None:
    a, b, _ = tenants
    ids = _seed(a, b)
    wf_id = ids["/v2/workflows/{identifier}"]["identifier"]
    ex_id = ids["/v2/executions/{wf_ex_id}"]["wf_ex_id"]
    trigger_id = ids["/v2/event_triggers/{trigger_id}"]["trigger_id"]
    text = {"media_type": "text/plain"}
    _call(a, "PUT", "/v2/workflows", 200, body=WORKFLOW, **text)
    _call(
        a,
        "PUT",
        "/v2/workflows/{identifier}",
        200,
        path_parameters={"identifier": wf_id},
        body=WORKFLOW,
        **text,
    )
    _call(a, "PUT", "/v2/actions", 200, body=ACTION, query={"namespace": "ns1"}, **text)
    _call(a, "PUT", "/v2/workbooks", 200, body=WORKBOOK, **text)
    _call(a, "POST", "/v2/workflows/validate", 200, body=WORKFLOW, **text)
    _call(a, "PUT", "/v2/environments", 200, body={"name": "env1", "description": "changed"})
    _call(
        a,
        "PUT",
        "/v2/executions/{wf_ex_id}",
        200,
        path_parameters={"wf_ex_id": ex_id},
        body={"description": "d"},
    )
    _call(
        a,
        "PUT",
        "/v2/event_triggers/{trigger_id}",
        200,
        path_parameters={"trigger_id": trigger_id},
        body={"name": "n"},
    )
    member = {"resource_id": wf_id, "member_id": b.project_id}
    _call(
        b,
        "PUT",
        "/v2/workflows/{resource_id}/members/{member_id}",
        200,
        path_parameters=member,
        body={"status": "accepted"},
    )
    _call(a, "DELETE", "/v2/workflows/{resource_id}/members/{member_id}", 204, path_parameters=member)
    admin = _code_admin(a)
    _call(admin, "PUT", "/v2/code_sources", 200, body=CODE, query={"identifier": "mod"}, **text)
    _call(admin, "PUT", "/v2/dynamic_actions", 200, body={"name": "hello", "class_name": "Hello"})
    _call(admin, "DELETE", "/v2/dynamic_actions/{identifier}", 204, path_parameters={"identifier": "hello"})
    _call(admin, "DELETE", "/v2/code_sources/{identifier}", 204, path_parameters={"identifier": "mod"})
    _call(a, "DELETE", "/v2/cron_triggers/{identifier}", 204, path_parameters={"identifier": "nightly"})
    _call(a, "DELETE", "/v2/event_triggers/{trigger_id}", 204, path_parameters={"trigger_id": trigger_id})
    _call(a, "DELETE", "/v2/executions/{wf_ex_id}", 204, path_parameters={"wf_ex_id": ex_id})
    _call(a, "DELETE", "/v2/environments/{name}", 204, path_parameters={"name": "env1"})
    _call(a, "DELETE", "/v2/workbooks/{name}", 204, path_parameters={"name": "book"})
    _call(
        a,
        "DELETE",
        "/v2/actions/{identifier}/{namespace}",
        204,
        path_parameters={"identifier": "greeting", "namespace": "ns1"},
    )
    _call(a, "DELETE", "/v2/workflows/{identifier}", 204, path_parameters={"identifier": wf_id})
