"""Code sources and dynamic actions through REST, the real client and CLI, and workflows that run them."""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any

import pytest
from mistralclient.api import base as client_base

from mistral.actions import child_process
from tests.functional.conftest import Server, cli_json
from tests.polling import wait_rest_execution

CODE = '''\
import os
import time

from mistral_lib import actions


class Hello(actions.Action):
    """Greets; says which process ran it."""

    def __init__(self, name, greeting="Hello"):
        self.name = name
        self.greeting = greeting

    def run(self, context):
        print("noise on stdout must not spoil the answer")
        return {
            "text": f"{self.greeting}, {self.name}!",
            "pid": os.getpid(),
            "workflow_execution_id": context.execution.workflow_execution_id,
        }


class Boom(actions.Action):
    def run(self, context):
        raise ValueError("boom from uploaded code")


class Refuse(actions.Action):
    def run(self, context):
        return actions.Result(error={"why": "refused"})


class Sleepy(actions.Action):
    def run(self, context):
        time.sleep(60)


class Spin(actions.Action):
    def run(self, context):
        while True:
            try:
                pass
            except Exception:
                pass


class Quitter(actions.Action):
    def run(self, context):
        import sys

        sys.exit(3)


class Vanisher(actions.Action):
    def run(self, context):
        os._exit(7)


class Hog(actions.Action):
    def run(self, context):
        return len(bytearray(2 * 1024 ** 3))


class NotJson(actions.Action):
    def run(self, context):
        return {1, 2}
'''

WORKFLOW = """\
version: '2.0'
greet:
  input: [who]
  tasks:
    say:
      action: hello name=<% $.who %>
      publish:
        said: <% task().result.text %>
        pid: <% task().result.pid %>
"""


def _source(api: Server, name: str = "greetings", content: str = CODE, **query: str) -> dict[str, Any]:
    resp = api.request("POST", "/code_sources", params={"name": name, **query}, data=content,
                       headers={"Content-Type": "text/plain"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    return resp.json()


def _action(
    api: Server, name: str, class_name: str, source: str = "greetings", **extra: str
) -> dict[str, Any]:
    body = {"name": name, "class_name": class_name, "code_source_name": source, **extra}
    resp = api.request("POST", "/dynamic_actions", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _run(api: Server, name: str, action_input: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = api.request("POST", "/action_executions", json={"name": name, "input": action_input or {}})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _wait(api: Server, ex_id: str, timeout: float = 30) -> dict[str, Any]:
    return wait_rest_execution(api, ex_id, timeout=timeout)


# -- REST ---------------------------------------------------------------------------------------------


def test_code_source_crud(api: Server) -> None:
    created = _source(api, namespace="ns1")
    assert {k: created[k] for k in ("name", "namespace", "version", "scope", "content")} == {
        "name": "greetings", "namespace": "ns1", "version": 1, "scope": "private", "content": CODE,
    }  # fmt: skip
    assert created["id"] and created["project_id"] and created["created_at"]
    by_name = api.request("GET", "/code_sources/greetings", params={"namespace": "ns1"}).json()
    assert by_name["id"] == created["id"]
    assert api.request("GET", f"/code_sources/{created['id']}").json()["name"] == "greetings"
    assert api.request("GET", "/code_sources/greetings").status_code == 404  # another namespace
    listed = api.request("GET", "/code_sources", params={"fields": "name,version"}).json()["code_sources"]
    assert listed == [{"id": created["id"], "name": "greetings", "version": 1}]

    again = api.request("POST", "/code_sources", params={"name": "greetings", "namespace": "ns1"}, data=CODE)
    assert again.status_code == 409, again.text

    updated = api.request("PUT", "/code_sources", params={"identifier": "greetings", "namespace": "ns1"},
                          data=CODE + "\nX = 1\n")  # fmt: skip
    assert updated.status_code == 200, updated.text
    assert (updated.json()["version"], updated.json()["id"]) == (2, created["id"])

    _action(api, "hello", "Hello", namespace="ns1")
    assert api.request("DELETE", "/code_sources/greetings", params={"namespace": "ns1"}).status_code == 204
    assert api.request("GET", "/code_sources").json()["code_sources"] == []
    # Its dynamic actions went with it.
    assert api.request("GET", "/dynamic_actions").json()["dynamic_actions"] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("def broken(:\n    pass\n", "not valid Python: line 1"),
        ("   \n", "body is empty"),
        ("x = 1\n" * 200, "larger than [dynamic_actions] max_code_size_kb = 1 KiB"),
    ],
)
def test_bad_code_source_is_400(api: Server, content: str, expected: str, override_conf: Any) -> None:
    override_conf("dynamic_actions", "max_code_size_kb", 1)
    resp = api.request("POST", "/code_sources", params={"name": "bad"}, data=content)
    assert resp.status_code == 400, resp.text
    assert expected in resp.json()["faultstring"]
    assert api.request("GET", "/code_sources").json()["code_sources"] == []


def test_dynamic_action_crud(api: Server) -> None:
    source = _source(api)
    created = _action(api, "hello", "Hello")
    shown = ("name", "namespace", "class_name", "code_source_id", "code_source_name")
    assert {k: created[k] for k in shown} == {
        "name": "hello", "namespace": "", "class_name": "Hello", "code_source_id": source["id"],
        "code_source_name": "greetings",
    }  # fmt: skip
    assert api.request("GET", "/dynamic_actions/hello").json()["id"] == created["id"]
    assert api.request("GET", f"/dynamic_actions/{created['id']}").json()["class_name"] == "Hello"
    by_id = _action(api, "boom", "Boom", source=source["id"])
    assert by_id["code_source_name"] == "greetings"
    names = [a["name"] for a in api.request("GET", "/dynamic_actions", params={"sort_keys": "name"}).json()[
        "dynamic_actions"]]  # fmt: skip
    assert names == ["boom", "hello"]

    dup = api.request("POST", "/dynamic_actions", json={"name": "hello", "class_name": "Boom",
                                                        "code_source_name": "greetings"})  # fmt: skip
    assert dup.status_code == 409, dup.text
    put = api.request("PUT", "/dynamic_actions", json={"name": "hello", "class_name": "Boom"})
    assert put.status_code == 200, put.text
    assert put.json()["class_name"] == "Boom"
    assert api.request("DELETE", "/dynamic_actions/hello").status_code == 204
    assert api.request("GET", "/dynamic_actions/hello").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"name": "x", "class_name": "Missing", "code_source_name": "greetings"},
            400,
            "defines no class 'Missing'",
        ),
        ({"name": "x", "class_name": "not a name", "code_source_name": "greetings"}, 400, "class_name"),
        ({"name": "x", "class_name": "Hello"}, 400, "code_source_id' or 'code_source_name"),
        ({"name": "x", "class_name": "Hello", "code_source_name": "nowhere"}, 404, "nowhere"),
        ({"name": "", "class_name": "Hello", "code_source_name": "greetings"}, 400, "'name' is required"),
        (
            {"name": "x", "class_name": "Hello", "code_source_name": "greetings", "colour": "red"},
            400,
            "colour",
        ),
        (
            {"name": "x", "class_name": "Hello", "code_source_name": "greetings", "namespace": {}},
            400,
            "'namespace' must be a string",
        ),
    ],
)
def test_bad_dynamic_action_is_refused(api: Server, body: dict[str, Any], status: int, expected: str) -> None:
    _source(api)
    resp = api.request("POST", "/dynamic_actions", json=body)
    assert resp.status_code == status, resp.text
    assert expected in resp.json()["faultstring"]


# -- running them --------------------------------------------------------------------------------------


def test_a_workflow_runs_a_dynamic_action_in_a_child_process(api: Server) -> None:
    _source(api)
    _action(api, "hello", "Hello")
    assert api.request("POST", "/workflows", data=WORKFLOW).status_code == 201
    ex = api.request("POST", "/executions", json={"workflow_name": "greet", "input": {"who": "World"}}).json()
    ex = _wait(api, ex["id"])
    assert ex["state"] == "SUCCESS", ex["state_info"]
    import json

    output = json.loads(ex["output"])
    assert output["said"] == "Hello, World!"
    # Not in this process (which is the API, engine and executor at once).
    assert output["pid"] != os.getpid()


def test_an_updated_code_source_runs_its_new_version(api: Server) -> None:
    _source(api)
    _action(api, "hello", "Hello")
    changed = CODE.replace('f"{self.greeting}, {self.name}!"', 'f"{self.greeting} again, {self.name}!"')
    api.request("PUT", "/code_sources", params={"identifier": "greetings"}, data=changed)
    ran = _run(api, "hello", {"name": "you"})
    assert '"Hello again, you!"' in ran["output"], ran


@pytest.mark.parametrize(
    ("class_name", "action_input", "expected"),
    [
        ("Boom", {}, "Dynamic action act (class Boom of code source greetings) raised: ValueError: boom"),
        ("Hello", {"nobody": 1}, "got invalid input: TypeError"),
        ("NotJson", {}, "not JSON-serializable"),
        ("Hog", {}, "ran out of memory"),
        ("Quitter", {}, "(class Quitter of code source greetings) raised: SystemExit: 3"),
        ("Vanisher", {}, "Dynamic action act failed: its process ended with code 7"),
    ],
)
def test_a_failing_dynamic_action_is_an_error_naming_why(
    api: Server, class_name: str, action_input: dict[str, Any], expected: str
) -> None:
    _source(api)
    _action(api, "act", class_name)
    ran = _run(api, "act", action_input)
    assert ran["state"] == "ERROR", ran
    assert expected in ran["output"], ran["output"]


def test_a_result_error_keeps_its_data(api: Server) -> None:
    _source(api)
    _action(api, "refuse", "Refuse")
    ran = _run(api, "refuse")
    assert (ran["state"], ran["output"]) == ("ERROR", '{"result": {"why": "refused"}}')


@pytest.mark.parametrize("class_name", ["Sleepy", "Spin"])
def test_a_dynamic_action_that_overruns_is_stopped(api: Server, override_conf: Any, class_name: str) -> None:
    override_conf("dynamic_actions", "timeout", 1.0)
    _source(api)
    _action(api, "slow", class_name)
    started = time.monotonic()
    ran = _run(api, "slow")
    assert ran["state"] == "ERROR", ran
    assert f"(class {class_name} of code source greetings) timed out: it ran longer than 1 s" in ran["output"]
    # Stopped by the child's own timer, well before the parent's grace period would end it.
    assert time.monotonic() - started < 1 + child_process.STARTUP_GRACE


def test_code_that_does_not_import_or_lost_its_class_fails_the_task(api: Server) -> None:
    _source(api)
    _action(api, "hello", "Hello")
    assert api.request("POST", "/workflows", data=WORKFLOW).status_code == 201
    api.request("PUT", "/code_sources", params={"identifier": "greetings"}, data="raise ImportError('no')\n")
    ex = api.request("POST", "/executions", json={"workflow_name": "greet", "input": {"who": "W"}}).json()
    ex = _wait(api, ex["id"])
    assert ex["state"] == "ERROR"
    task = api.request("GET", f"/executions/{ex['id']}/tasks").json()["tasks"][0]
    assert task["state"] == "ERROR"
    assert "failed to import: ImportError: no" in task["state_info"], task["state_info"]

    api.request("PUT", "/code_sources", params={"identifier": "greetings"}, data="X = 1\n")
    ran = _run(api, "hello", {"name": "x"})
    assert "code source 'greetings' has no class 'Hello'" in ran["output"], ran


def test_namespaces_and_an_unknown_action(api: Server) -> None:
    _source(api, namespace="ns1")
    _action(api, "hello", "Hello", source="greetings", namespace="ns1")
    resp = api.request("POST", "/action_executions", json={"name": "hello", "input": {"name": "x"}})
    assert resp.status_code == 404, resp.text  # not in the default namespace
    resp = api.request(
        "POST", "/action_executions",
        json={"name": "hello", "input": {"name": "ns"}, "workflow_namespace": "ns1"},
    )  # fmt: skip
    assert resp.status_code == 201 and "Hello, ns!" in resp.json()["output"], resp.text


# -- the real client and CLI -----------------------------------------------------------------------------


def test_python_client(client: Any) -> None:
    source = client.code_sources.create("greetings", CODE)
    assert (source.name, source.version) == ("greetings", 1)
    assert client.code_sources.update("greetings", CODE + "\n").version == 2
    assert [s.name for s in client.code_sources.list()] == ["greetings"]
    assert client.code_sources.get(source.id).content == CODE + "\n"
    action = client.dynamic_actions.create("hello", "Hello", "greetings")
    assert client.dynamic_actions.update("hello", class_name="Boom").class_name == "Boom"
    assert client.dynamic_actions.update(action.id, class_name="Hello").class_name == "Hello"
    assert [a.name for a in client.dynamic_actions.list()] == ["hello"]
    out = client.action_executions.create("hello", {"name": "client"})
    assert "Hello, client!" in out.output
    client.dynamic_actions.delete("hello")
    client.code_sources.delete("greetings")
    with pytest.raises(client_base.APIException) as err:
        client.code_sources.get("greetings")
    assert err.value.error_code == 404


def test_cli(cli: Any, tmp_path: pathlib.Path) -> None:
    code = tmp_path / "greetings.py"
    code.write_text(CODE)
    created = cli_json(cli("code-source-create", "greetings", str(code), "-f", "json"))
    assert (created["Name"], created["Scope"]) == ("greetings", "private")
    assert [s["Name"] for s in cli_json(cli("code-source-list", "-f", "json"))] == ["greetings"]
    assert cli_json(cli("code-source-get", "greetings", "-f", "json"))["ID"] == created["ID"]
    assert cli("code-source-get-content", "greetings").stdout == CODE
    code.write_text(CODE + "\n")
    cli("code-source-update", "greetings", str(code))

    action = cli_json(cli("dynamic-action-create", "hello", "Hello", "greetings", "-f", "json"))
    assert (action["Class"], action["Code source name"]) == ("Hello", "greetings")
    assert [a["Name"] for a in cli_json(cli("dynamic-action-list", "-f", "json"))] == ["hello"]
    assert cli_json(cli("dynamic-action-get", "hello", "-f", "json"))["ID"] == action["ID"]
    updated = cli_json(cli("dynamic-action-update", "hello", "--class-name", "Boom", "-f", "json"))
    assert updated["Class"] == "Boom"
    cli("dynamic-action-update", "hello", "--class-name", "Hello")
    ran = cli_json(cli("run-action", "hello", '{"name": "cli"}', "-f", "json"))
    assert "Hello, cli!" in str(ran)
    cli("dynamic-action-delete", "hello")
    cli("code-source-delete", "greetings")
    # The client prints one blank row for an empty list.
    assert [s["ID"] for s in cli_json(cli("code-source-list", "-f", "json"))] in ([], [""])
