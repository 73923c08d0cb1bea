"""The real ``mistral`` CLI's execution, task and action-execution commands against the server.

Definitions are uploaded and executions awaited with the Python client (cheap); every command
under test goes through the CLI (a process each, so several reads share one execution).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.functional.conftest import cli_json
from tests.polling import wait_execution, wait_for

# NOTE: each CLI call costs a process start; the backends are covered by test_client_executions.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


WORKFLOWS = """
version: '2.0'
greet:
  input:
    - name
    - greeting: Hello
  output:
    text: <% $.text %>
  tasks:
    say:
      action: std.echo output="<% $.greeting %>, <% $.name %>"
      on-success:
        publish:
          branch:
            text: <% task().result %>
          global:
            greeted: <% $.name %>
parent:
  tasks:
    call:
      workflow: greet
      input:
        name: Kid
      publish:
        kid_text: <% task().result.text %>
needs_env:
  tasks:
    check:
      action: std.echo output=<% env().ok %>
      fail-on: <% task().result != true %>
      publish:
        checked: <% task().result %>
batch:
  tasks:
    each:
      with-items: v in <% [1, 2, 3] %>
      action: std.async_noop
gate:
  tasks:
    hold:
      action: std.async_noop
      on-success: after
    after:
      action: std.noop
"""


def rows(result: Any) -> list[dict]:
    """A list command's rows; the client prints one blank row for an empty list."""
    return [r for r in cli_json(result) if r.get("ID")]


def json_docs(text: str) -> list[Any]:
    """Every JSON document printed one after the other (task-get-published prints two)."""
    decoder, docs, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        doc, at = decoder.raw_decode(text, at)
        docs.append(doc)
    return docs


def failure(result: Any) -> str:
    assert result.returncode != 0, f"expected a failure, got: {result.stdout}"
    return result.stderr + result.stdout


def next_second(stamp: str) -> None:
    """Sleep until the API's whole-second clock has passed ``stamp`` (keeps created_at ordered)."""
    while datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S") <= stamp:
        time.sleep(0.05)


@pytest.fixture
def wfs(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def test_execution_create_read_update_copy_list_and_delete(cli: Any, client: Any) -> None:
    client.workflows.create(WORKFLOWS, namespace="ns")
    created = cli_json(
        cli(
            "execution-create", "greet", '{"name": "Ann"}', '{"env": {"who": "ops"}}',
            "-d", "first run", "--namespace", "ns", "-f", "json",
        )
    )  # fmt: skip
    ex_id = created["ID"]
    assert (created["Workflow name"], created["Workflow namespace"]) == ("greet", "ns")
    assert created["Description"] == "first run" and created["State"] in ("RUNNING", "SUCCESS")
    assert created["Root Execution ID"] == "<none>"
    wait_execution(client, ex_id)

    got = cli_json(cli("execution-get", ex_id, "-f", "json"))
    assert (got["ID"], got["State"], got["Workflow namespace"]) == (ex_id, "SUCCESS", "ns")
    assert json.loads(cli("execution-get-input", ex_id).stdout)["name"] == "Ann"
    assert json.loads(cli("execution-get-output", ex_id).stdout) == {"text": "Hello, Ann"}
    assert json.loads(cli("execution-get-published", ex_id).stdout) == {"greeted": "Ann"}
    assert json.loads(client.executions.get(ex_id).params)["env"] == {"who": "ops"}

    updated = cli_json(cli("execution-update", ex_id, "-d", "renamed", "-f", "json"))
    assert (updated["Description"], updated["State"]) == ("renamed", "SUCCESS")

    next_second(got["Created at"])
    copy = cli_json(cli("execution-create", "-s", ex_id, "-f", "json"))
    assert copy["ID"] != ex_id and (copy["Workflow name"], copy["Workflow namespace"]) == ("greet", "ns")
    assert ex_id in copy["Description"]
    assert json.loads(wait_execution(client, copy["ID"]).output) == {"text": "Hello, Ann"}

    newest = rows(cli("execution-list", "--limit", "1", "-f", "json"))
    assert [r["ID"] for r in newest] == [copy["ID"]]
    oldest = rows(cli("execution-list", "--oldest", "--limit", "1", "-f", "json"))
    assert [r["ID"] for r in oldest] == [ex_id]

    cli("execution-delete", ex_id, copy["ID"])
    assert client.executions.list() == []


def test_execution_tree_lists_and_task_reads(cli: Any, wfs: Any) -> None:
    client = wfs
    failed = client.executions.create("needs_env", env={"ok": False})
    wait_execution(client, failed.id)
    next_second(client.executions.get(failed.id).created_at)
    parent = client.executions.create("parent")
    assert wait_execution(client, parent.id).state == "SUCCESS"
    (call,) = client.tasks.list(parent.id)
    (child,) = client.executions.list(task=call.id)

    listed = rows(cli("execution-list", "-f", "json"))
    assert [r["ID"] for r in listed] == [failed.id, parent.id, child.id], "oldest to newest"
    assert {r["ID"]: r["Root Execution ID"] for r in listed}[child.id] == parent.id
    roots = rows(cli("execution-list", "--rootsonly", "-f", "json"))
    assert [r["ID"] for r in roots] == [failed.id, parent.id]
    of_task = rows(cli("execution-list", "--task", call.id, "-f", "json"))
    assert [(r["ID"], r["Task Execution ID"]) for r in of_task] == [(child.id, call.id)]
    succeeded = rows(cli("execution-list", "--filter", "state=SUCCESS", "-f", "json"))
    assert sorted(r["ID"] for r in succeeded) == sorted([parent.id, child.id])
    tree = rows(cli("execution-get-sub-executions", parent.id, "-f", "json"))
    assert sorted(r["ID"] for r in tree) == sorted([parent.id, child.id]), "itself and its sub-executions"

    tasks = rows(cli("task-list", parent.id, "-f", "json"))
    assert [(t["ID"], t["Name"], t["State"]) for t in tasks] == [(call.id, "call", "SUCCESS")]
    every = rows(cli("task-list", "-f", "json"))
    assert sorted(t["Name"] for t in every) == ["call", "check", "say"]
    task = cli_json(cli("task-get", call.id, "-f", "json"))
    assert (task["Name"], task["Workflow Execution ID"], task["State"]) == ("call", parent.id, "SUCCESS")
    assert json.loads(cli("task-get-result", call.id).stdout) == {"text": "Hello, Kid"}
    published = json_docs(cli("task-get-published", call.id).stdout)
    assert published[0] == {"kid_text": "Hello, Kid"}
    subs = rows(cli("task-get-sub-executions", call.id, "-f", "json"))
    assert [(r["ID"], r["Workflow name"]) for r in subs] == [(child.id, "greet")]


def test_execution_state_changes(cli: Any, wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("gate", env={"a": 1})
    hold = wait_for("hold to start", lambda: client.tasks.list(ex.id))[0]
    (action,) = wait_for("the async action", lambda: client.action_executions.list(hold.id))

    assert cli_json(cli("execution-update", ex.id, "-s", "PAUSED", "-f", "json"))["State"] == "PAUSED"
    client.action_executions.update(action.id, "SUCCESS", {"done": True})
    wait_for("hold to finish", lambda: client.tasks.get(hold.id).state == "SUCCESS")
    cli("execution-update", ex.id, "-e", '{"b": 2}')
    assert json.loads(client.executions.get(ex.id).params)["env"] == {"a": 1, "b": 2}
    time.sleep(0.3)
    assert client.executions.get(ex.id).state == "PAUSED"
    assert [t.name for t in client.tasks.list(ex.id)] == ["hold"], "nothing new starts while paused"
    resumed = cli_json(cli("execution-update", ex.id, "-s", "RUNNING", "-e", '{"c": 3}', "-f", "json"))
    assert resumed["State"] == "RUNNING"
    assert wait_execution(client, ex.id).state == "SUCCESS"
    assert json.loads(client.executions.get(ex.id).params)["env"] == {"a": 1, "b": 2, "c": 3}
    assert sorted(t.name for t in client.tasks.list(ex.id)) == ["after", "hold"]

    to_cancel = client.executions.create("gate")
    cancelled = cli_json(cli("execution-update", to_cancel.id, "-s", "CANCELLED", "-f", "json"))
    assert cancelled["State"] == "CANCELLED"
    to_fail = client.executions.create("gate")
    assert cli_json(cli("execution-update", to_fail.id, "-s", "ERROR", "-f", "json"))["State"] == "ERROR"
    assert client.executions.get(to_fail.id).state == "ERROR"

    running = client.executions.create("gate")
    refused = failure(cli("execution-delete", running.id, check=False))
    assert running.id in refused
    assert client.executions.get(running.id).state == "RUNNING"
    cli("execution-delete", running.id, "--force")
    assert running.id not in [e.id for e in client.executions.list()]


def test_report_and_task_rerun(cli: Any, wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("needs_env", env={"ok": False})
    assert wait_execution(client, ex.id).state == "ERROR"
    (task,) = client.tasks.list(ex.id)

    report = cli("execution-get-report", ex.id).stdout
    assert f"workflow 'needs_env' [ERROR] {ex.id}" in report
    assert f"task 'check' [ERROR] {task.id}" in report and "action 'std.echo' [SUCCESS]" in report
    assert "Number of tasks in ERROR state: 1" in report
    stats = cli("execution-get-report", ex.id, "--statistics-only").stdout
    assert "Number of tasks in ERROR state: 1" in stats and "Workflow Execution Tree" not in stats

    rerun = cli_json(cli("task-rerun", task.id, "-e", '{"ok": true}', "-f", "json"))
    assert (rerun["ID"], rerun["State"]) == (task.id, "RUNNING")
    assert wait_execution(client, ex.id).state == "SUCCESS"
    assert json.loads(client.tasks.get(task.id).published) == {"checked": True}

    batch = client.executions.create("batch")
    (each,) = wait_for("the with-items task", lambda: client.tasks.list(batch.id))
    first = wait_for("3 items", lambda: len(a := client.action_executions.list(each.id)) == 3 and a)
    for action, state in zip(first, ("SUCCESS", "ERROR", "SUCCESS"), strict=True):
        client.action_executions.update(action.id, state, {"item": state})
    assert wait_execution(client, batch.id).state == "ERROR"
    resumed = cli_json(cli("task-rerun", each.id, "--resume", "-f", "json"))
    assert (resumed["ID"], resumed["State"]) == (each.id, "RUNNING")
    every = wait_for(
        "the re-run item",
        lambda: len(a := client.action_executions.list(each.id)) == 4 and a,
    )
    (again,) = [a for a in every if a.id not in {f.id for f in first}]
    assert again.state == "RUNNING", "only the failed item runs again"
    assert {a.id: a.state for a in every if a.id != again.id} == {
        a.id: s for a, s in zip(first, ("SUCCESS", "ERROR", "SUCCESS"), strict=True)
    }
    client.action_executions.update(again.id, "SUCCESS", {"item": "again"})
    assert wait_execution(client, batch.id).state == "SUCCESS"
    assert client.tasks.get(each.id).state == "SUCCESS"


def test_action_execution_commands(cli: Any, wfs: Any) -> None:
    client = wfs
    assert json.loads(cli("run-action", "std.echo", '{"output": "hi"}').stdout) == {"result": "hi"}
    assert client.action_executions.list() == [], "a sync run without --save-result stores nothing"

    saved = cli_json(cli("run-action", "std.echo", '{"output": "kept"}', "-s", "-f", "json"))
    assert saved["Name"] == "std.echo" and saved["State"] in ("RUNNING", "SUCCESS")
    wait_for("the saved run", lambda: client.action_executions.get(saved["ID"]).state == "SUCCESS")

    cli("run-action", "std.async_noop")
    listed = rows(cli("action-execution-list", "-f", "json"))
    by_name = {r["Name"]: r for r in listed}
    assert set(by_name) == {"std.echo", "std.async_noop"}
    pending = by_name["std.async_noop"]
    assert pending["State"] == "RUNNING" and pending["Task ID"] in (None, "", "None", "<none>")

    got = cli_json(cli("action-execution-get", saved["ID"], "-f", "json"))
    assert (got["ID"], got["Name"], got["State"]) == (saved["ID"], "std.echo", "SUCCESS")
    assert json.loads(cli("action-execution-get-input", saved["ID"]).stdout) == {"output": "kept"}
    assert json.loads(cli("action-execution-get-output", saved["ID"]).stdout) == {"result": "kept"}

    done = cli_json(
        cli(
            "action-execution-update",
            pending["ID"],
            "--state",
            "SUCCESS",
            "--output",
            '{"x": 1}',
            "-f",
            "json",
        )
    )
    assert done["State"] == "SUCCESS"
    assert json.loads(cli("action-execution-get-output", pending["ID"]).stdout) == {"result": {"x": 1}}

    refused = failure(cli("action-execution-delete", saved["ID"], check=False))
    assert "403" in refused or "not allowed" in refused.lower()
    assert client.action_executions.get(saved["ID"]).state == "SUCCESS"

    ex = client.executions.create("gate")
    hold = wait_for("hold to start", lambda: client.tasks.list(ex.id))[0]
    wait_for("the task's action", lambda: client.action_executions.list(hold.id))
    of_task = rows(cli("action-execution-list", hold.id, "-f", "json"))
    assert [(r["Name"], r["Task name"], r["Task ID"]) for r in of_task] == [
        ("std.async_noop", "hold", hold.id)
    ]
    client.executions.update(ex.id, "CANCELLED")


def test_refusals_name_the_problem_and_change_nothing(cli: Any, wfs: Any) -> None:
    client = wfs
    assert "no_such_wf" in failure(cli("execution-create", "no_such_wf", check=False))
    assert "name" in failure(cli("execution-create", "greet", '{"greeting": "Hi"}', check=False))
    assert "colour" in failure(
        cli("execution-create", "greet", '{"name": "x", "colour": "red"}', check=False)
    )
    assert client.executions.list() == []

    ex = client.executions.create("greet", workflow_input={"name": "x"})
    assert wait_execution(client, ex.id).state == "SUCCESS"
    for state in ("RUNNING", "PAUSED"):
        failure(cli("execution-update", ex.id, "-s", state, check=False))
        assert client.executions.get(ex.id).state == "SUCCESS"
    (task,) = client.tasks.list(ex.id)
    # NOTE: a SUCCESS task may be re-run (tests/functional/test_rerun_succeeded.py), not without reset
    assert "with-items" in failure(cli("task-rerun", task.id, "--resume", check=False))
    assert client.tasks.get(task.id).state == "SUCCESS"
    assert client.executions.get(ex.id).state == "SUCCESS"
