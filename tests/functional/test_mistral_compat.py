"""Behaviours checked black-box against OpenStack Mistral 23.0.0, through REST and the real client.

Each test pins what Mistral 23.0.0 answered to the same requests (issue 10, the list of "other
differences"): the values in the assertions were read from a running Mistral, not from its code.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from mistralclient.api import base as client_base

from tests.functional.conftest import Server
from tests.functional.runs import TEXT, start, wait

WORKBOOK = """\
version: '2.0'
name: book
workflows:
  flow:
    tasks:
      t:
        action: shout
actions:
  shout:
    base: std.echo output="hi"
"""


def _post(api: Server, kind: str, text: str, **params: str) -> Any:
    return api.request("POST", f"/{kind}", data=text, headers=TEXT, params=params)


def _tasks(api: Server, ex_id: str) -> dict[str, dict[str, Any]]:
    listed = api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"]
    return {t["name"]: api.request("GET", f"/tasks/{t['id']}").json() for t in listed}


def _action_output(api: Server, task_id: str) -> Any:
    (action_ex,) = api.request("GET", f"/tasks/{task_id}/action_executions").json()["action_executions"]
    return json.loads(api.request("GET", f"/action_executions/{action_ex['id']}").json()["output"])


# -- 1. deleting a workbook ----------------------------------------------------


def test_deleting_a_workbook_keeps_its_workflows_and_actions(api: Server) -> None:
    assert _post(api, "workbooks", WORKBOOK).status_code == 201
    wf = api.request("GET", "/workflows/book.flow").json()
    action = api.request("GET", "/actions/book.shout").json()

    assert api.request("DELETE", "/workbooks/book").status_code == 204

    # Mistral keeps them listed under their workbook-qualified names, with the same ids.
    assert [w["id"] for w in api.request("GET", "/workflows").json()["workflows"]] == [wf["id"]]
    assert api.request("GET", "/workflows/book.flow").json()["id"] == wf["id"]
    assert api.request("GET", "/actions/book.shout").json()["id"] == action["id"]
    assert api.request("GET", "/workbooks/book").status_code == 404
    ex_id = api.request("POST", "/executions", json={"workflow_name": "book.flow"}).json()["id"]
    assert wait(api, ex_id, "SUCCESS")["state"] == "SUCCESS"


def test_a_deleted_workbook_can_be_created_again_and_adopts_what_it_left(api: Server) -> None:
    assert _post(api, "workbooks", WORKBOOK).status_code == 201
    wf_id = api.request("GET", "/workflows/book.flow").json()["id"]
    assert api.request("DELETE", "/workbooks/book").status_code == 204

    again = _post(api, "workbooks", WORKBOOK.replace('"hi"', '"again"'))

    assert again.status_code == 201, again.text
    assert api.request("GET", "/workflows/book.flow").json()["id"] == wf_id
    assert '"again"' in api.request("GET", "/actions/book.shout").json()["definition"]
    # and each can still be deleted on its own once the workbook is gone again
    assert api.request("DELETE", "/workbooks/book").status_code == 204
    assert api.request("DELETE", "/workflows/book.flow").status_code == 204
    assert api.request("DELETE", "/actions/book.shout").status_code == 204


def test_a_workbook_does_not_take_over_a_standalone_workflow_of_the_same_name(api: Server) -> None:
    standalone = "version: '2.0'\nbook.flow:\n  tasks:\n    t: {action: std.noop}\n"
    assert _post(api, "workflows", standalone).status_code == 201

    response = _post(api, "workbooks", WORKBOOK)

    assert response.status_code == 409, response.text
    assert "book.flow" in response.json()["faultstring"]


def test_client_workbook_delete_leaves_the_workflow(client: Any) -> None:
    client.workbooks.create(WORKBOOK)
    client.workbooks.delete("book")
    assert client.workflows.get("book.flow").name == "book.flow"
    assert client.workbooks.list() == []


# -- 2. namespaces of nested workflows ----------------------------------------------

VERSION = "version: '2.0'\n"
TOP = VERSION + "top:\n  tasks:\n    t:\n      workflow: middle\n"
MIDDLE = VERSION + "middle:\n  tasks:\n    t:\n      workflow: leaf\n"


def _leaf(where: str) -> str:
    return f"leaf:\n  output: {{where: {where}}}\n  tasks:\n    t: {{action: std.noop}}\n"


def _tree(api: Server, ex_id: str) -> dict[str, dict[str, Any]]:
    subs = api.request("GET", f"/executions/{ex_id}/executions").json()["executions"]
    return {s["workflow_name"]: s for s in subs}


def test_a_sub_workflow_from_the_default_namespace_starts_its_own_from_the_inherited_one(
    api: Server,
) -> None:
    assert _post(api, "workflows", TOP, namespace="nsx").status_code == 201
    assert _post(api, "workflows", MIDDLE + _leaf("default")).status_code == 201
    assert _post(api, "workflows", VERSION + _leaf("nsx"), namespace="nsx").status_code == 201

    created = api.request("POST", "/executions", json={"workflow_name": "top", "workflow_namespace": "nsx"})
    ex_id = created.json()["id"]
    wait(api, ex_id, "SUCCESS")

    tree = _tree(api, ex_id)
    # middle exists only in the default namespace, but runs with the namespace it inherited...
    assert tree["middle"]["workflow_namespace"] == ""
    assert json.loads(tree["middle"]["params"])["namespace"] == "nsx"
    # ...so its own sub-workflow is looked up in nsx first, as Mistral does.
    assert tree["leaf"]["workflow_namespace"] == "nsx"
    assert json.loads(tree["leaf"]["params"])["namespace"] == "nsx"
    leaf = api.request("GET", f"/executions/{tree['leaf']['id']}").json()
    assert json.loads(leaf["output"]) == {"where": "nsx"}
    # tasks and action executions carry their own execution's namespace (Mistral's Tempest test)
    assert _tasks(api, tree["middle"]["id"])["t"]["workflow_namespace"] == ""
    leaf_task = _tasks(api, leaf["id"])["t"]
    assert leaf_task["workflow_namespace"] == "nsx"
    actions = api.request("GET", f"/tasks/{leaf_task['id']}/action_executions").json()
    assert [a["workflow_namespace"] for a in actions["action_executions"]] == ["nsx"]


def test_a_nested_lookup_falls_back_to_the_default_namespace(api: Server) -> None:
    assert _post(api, "workflows", TOP, namespace="nsx").status_code == 201
    assert _post(api, "workflows", MIDDLE + _leaf("default")).status_code == 201

    ex_id = api.request("POST", "/executions", json={"workflow_name": "top", "workflow_namespace": "nsx"})
    ex_id = ex_id.json()["id"]
    wait(api, ex_id, "SUCCESS")

    tree = _tree(api, ex_id)
    assert tree["leaf"]["workflow_namespace"] == ""
    assert json.loads(tree["leaf"]["params"])["namespace"] == "nsx"


# -- 3. keep-result: false ------------------------------------------------------

KEEP_RESULT = """\
version: '2.0'
wf:
  tasks:
    forget:
      action: std.echo output="hello"
      keep-result: false
      publish:
        said: <% task().result %>
      on-success: keep
    keep:
      action: std.echo output=<% $.said %>
"""


def test_keep_result_false_stores_no_action_output_but_publish_sees_it(api: Server) -> None:
    ex_id = start(api, KEEP_RESULT)
    wait(api, ex_id, "SUCCESS")
    tasks = _tasks(api, ex_id)

    forget = tasks["forget"]
    assert json.loads(forget["published"]) == {"said": "hello"}
    # NOTE: Mistral renders the empty result as the text "null", this service as a JSON null.
    assert json.loads(forget["result"] or "null") is None
    assert _action_output(api, forget["id"]) == {}
    # the next task got the published value, and a task without the keyword keeps its result
    assert json.loads(tasks["keep"]["result"]) == "hello"
    assert _action_output(api, tasks["keep"]["id"]) == {"result": "hello"}


# -- 4. the version key ------------------------------------------------------------

NO_VERSION = {
    "workflows": "wf:\n  tasks:\n    t: {action: std.noop}\n",
    "workbooks": "name: book\nworkflows:\n  w:\n    tasks:\n      t: {action: std.noop}\n",
    "actions": "act:\n  base: std.noop\n",
}


@pytest.mark.parametrize("kind", sorted(NO_VERSION))
@pytest.mark.parametrize("params", [{}, {"skip_validation": "true"}])
def test_a_definition_without_version_is_refused(api: Server, kind: str, params: dict[str, str]) -> None:
    response = _post(api, kind, NO_VERSION[kind], **params)

    assert response.status_code == 400, response.text
    assert "'version' is a required property" in response.json()["faultstring"]
    assert (
        api.request("GET", f"/{kind}", params={"is_system": "false"} if kind == "actions" else {}).json()[
            kind
        ]
        == []
    )


@pytest.mark.parametrize("kind", ["workflows", "workbooks", "actions"])
def test_validate_says_the_version_is_missing(api: Server, kind: str) -> None:
    answer = _post(api, f"{kind}/validate", NO_VERSION[kind]).json()
    assert answer["valid"] is False
    assert "'version' is a required property" in answer["error"]


def test_client_reports_the_missing_version(client: Any) -> None:
    with pytest.raises(client_base.APIException) as err:
        client.workflows.create(NO_VERSION["workflows"])
    assert err.value.error_code == 400 and "'version' is a required property" in err.value.error_message


# -- 5. the output of an async action ------------------------------------------------

ASYNC = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.async_noop\n"


def _running_async_action(api: Server) -> tuple[str, str]:
    ex_id = start(api, ASYNC)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = api.request("GET", "/action_executions", params={"state": "RUNNING"}).json()
        if listed["action_executions"]:
            return ex_id, listed["action_executions"][0]["id"]
        time.sleep(0.05)
    raise AssertionError("the async action did not start")


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("plain string", "Invalid JSON in 'output'"),
        ('"json string"', "'output' must be a JSON object, got str"),
        ("[1, 2]", "'output' must be a JSON object, got list"),
        ([1, 2], "'output' must be a JSON object, got list"),
        (5, "'output' must be a JSON object, got int"),
    ],
)
@pytest.mark.parametrize("state", ["SUCCESS", "ERROR"])
def test_async_output_must_be_a_json_object(api: Server, output: Any, message: str, state: str) -> None:
    ex_id, action_ex_id = _running_async_action(api)

    response = api.request(
        "PUT", f"/action_executions/{action_ex_id}", json={"state": state, "output": output}
    )

    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]
    assert api.request("GET", f"/action_executions/{action_ex_id}").json()["state"] == "RUNNING"
    assert api.request("GET", f"/executions/{ex_id}").json()["state"] == "RUNNING"


@pytest.mark.parametrize("output", [{"a": 1}, '{"a": 1}'])
def test_async_output_as_an_object_or_its_json_completes_the_task(api: Server, output: Any) -> None:
    ex_id, action_ex_id = _running_async_action(api)

    response = api.request(
        "PUT", f"/action_executions/{action_ex_id}", json={"state": "SUCCESS", "output": output}
    )

    assert response.status_code == 200, response.text
    assert json.loads(response.json()["output"]) == {"result": {"a": 1}}
    assert response.json()["task_name"] == "t"  # the answer names the task, as a GET does
    wait(api, ex_id, "SUCCESS")
    assert json.loads(_tasks(api, ex_id)["t"]["result"]) == {"a": 1}


def test_client_async_output_bare_string_is_refused(api: Server, client: Any) -> None:
    _, action_ex_id = _running_async_action(api)
    with pytest.raises(client_base.APIException) as err:
        client.action_executions.update(action_ex_id, state="SUCCESS", output="plain string")
    assert err.value.error_code == 400 and "output" in err.value.error_message


# -- 6. the workflow input string ------------------------------------------------------

INPUTS = """\
version: '2.0'
wf:
  input:
    - a
    - b: "2"
    - c: 3
    - d: null
    - e: [1, "x"]
    - f: {k: v, n: 1}
    - g: true
    - h: 1.5
    - i: ""
  tasks:
    t: {action: std.noop}
"""
#: Exactly what Mistral 23.0.0 answered for INPUTS: each default as Python's str() in double quotes.
MISTRAL_INPUT = (
    'a, b="2", c="3", d="None", e="[1, \'x\']", f="{\'k\': \'v\', \'n\': 1}", g="True", h="1.5", i=""'
)


def test_workflow_input_renders_defaults_as_mistral_does(api: Server, client: Any) -> None:
    created = _post(api, "workflows", INPUTS)

    assert created.json()["workflows"][0]["input"] == MISTRAL_INPUT
    assert api.request("GET", "/workflows/wf").json()["input"] == MISTRAL_INPUT
    assert client.workflows.get("wf").input == MISTRAL_INPUT


def test_ad_hoc_action_input_stays_json(api: Server) -> None:
    text = VERSION + 'act:\n  base: std.noop\n  input:\n    - a\n    - b: "2"\n    - c: 3\n    - d: null\n'
    created = _post(api, "actions", text)
    # Mistral renders ad-hoc and system action inputs as JSON, unlike workflow inputs.
    assert created.json()["actions"][0]["input"] == 'a, b="2", c=3, d=null'


# -- 7. the timed-out task -------------------------------------------------------------

TIMEOUT = """\
version: '2.0'
wf:
  tasks:
    t:
      action: std.async_noop
      timeout: 1
"""


def test_a_timed_out_task_says_so_as_mistral_does(api: Server) -> None:
    ex_id = start(api, TIMEOUT)
    wait(api, ex_id, "ERROR", timeout=15)
    assert _tasks(api, ex_id)["t"]["state_info"] == "Task timed out [timeout(s)=1]."
