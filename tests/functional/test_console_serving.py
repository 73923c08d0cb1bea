"""The web console over real HTTP: its files are public, the API behind it is not; the spec endpoint."""

from __future__ import annotations

import requests
import webtest

from mistral.api import app as api_app
from tests.conftest import Override
from tests.functional import runs
from tests.functional.conftest import Server
from tests.functional.tenancy import PROJECT_A, PROJECT_B, Tenant

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
GRAPH = """
version: '2.0'
wf:
  task-defaults:
    on-error: cleanup
  tasks:
    a:
      action: std.noop
      on-success: [b, {c: <% true %>}]
    b:
      action: std.noop
    c:
      action: std.noop
    cleanup:
      action: std.noop
"""


def get(url: str, **kwargs: object) -> requests.Response:
    return requests.get(url, timeout=30, allow_redirects=False, **kwargs)  # type: ignore[arg-type]


def test_the_console_is_served_beside_the_api(server: Server) -> None:
    page = get(f"{server.url}/ui/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'src="static/js/app.js"' in page.text
    script = get(f"{server.url}/ui/static/js/app.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    again = get(f"{server.url}/ui/static/js/app.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304
    # NOTE: a client removes "/../" itself; percent-encoded, it reaches the server, which decodes it.
    assert get(f"{server.url}/ui/static/%2e%2e/serve.py").status_code == 404

    browser = get(f"{server.url}/", headers=HTML)
    assert browser.status_code == 302 and browser.headers["Location"].endswith(f"{server.url}/ui/")
    assert get(f"{server.url}/").json()["versions"][0]["id"] == "v2.0"
    assert get(f"{server.url}/v2/executions").status_code == 200


def test_without_the_console_its_paths_are_the_api_s(server: Server, override_conf: Override) -> None:
    override_conf("api", "console_enabled", False)
    app = webtest.TestApp(api_app.setup_app(sync_actions=False))
    assert app.get("/ui/", expect_errors=True).status_int == 404
    assert app.get("/ui/static/js/app.js", expect_errors=True).status_int == 404
    assert app.get("/", headers=HTML).json["versions"][0]["id"] == "v2.0"


def test_with_auth_the_files_are_public_and_the_data_is_not(auth_url: str) -> None:
    assert get(f"{auth_url}/ui/").status_code == 200
    assert get(f"{auth_url}/ui/static/js/api.js").status_code == 200
    assert get(f"{auth_url}/", headers=HTML).status_code == 302
    assert get(f"{auth_url}/v2/executions").status_code == 401
    assert get(f"{auth_url}/ui/static/missing.js").status_code == 404


def test_the_spec_of_an_execution_is_its_definition_as_json(api: Server) -> None:
    ex_id = runs.start(api, GRAPH)
    runs.wait(api, ex_id, "SUCCESS")
    answer = api.request("GET", f"/executions/{ex_id}/spec")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == ex_id
    spec = body["spec"]
    assert set(spec["tasks"]) == {"a", "b", "c", "cleanup"}
    assert spec["tasks"]["a"]["on-success"] == ["b", {"c": "<% true %>"}]
    assert spec["task-defaults"] == {"on-error": "cleanup"}

    # It is the definition the execution ran, not the workflow's current one.
    changed = GRAPH.replace(
        "    cleanup:\n      action: std.noop\n",
        "    cleanup:\n      action: std.noop\n    d:\n      action: std.noop\n",
    )
    assert api.request("PUT", "/workflows", data=changed, headers=runs.TEXT).status_code == 200
    assert "d" not in api.request("GET", f"/executions/{ex_id}/spec").json()["spec"]["tasks"]

    missing = api.request("GET", "/executions/0e2c8f1e-6d7e-4d5a-9a3b-000000000000/spec")
    assert missing.status_code == 404
    assert "not found" in missing.json()["faultstring"]
    assert api.request("GET", f"/executions/{ex_id}/spec?fields=id").status_code == 400


def test_the_spec_of_another_project_s_execution_is_not_found(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    assert (a.project, b.project) == (PROJECT_A, PROJECT_B)
    a.create_workflow("console_spec")
    started = a.start(workflow_name="console_spec")
    assert started.status_code == 201, started.text
    ex_id = started.json()["id"]
    assert a.request("GET", f"/executions/{ex_id}/spec").json()["spec"]["tasks"]["hello"]
    assert b.request("GET", f"/executions/{ex_id}/spec").status_code == 404
