"""Executions, tasks and action executions through the real python-mistralclient Python API.

The engine runs in-process, so every test starts real workflows and waits for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from mistralclient.api import base as client_base

from tests.polling import wait_execution, wait_for

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
      publish:
        text: <% task().result %>
needs_env:
  tasks:
    check:
      action: std.echo output=<% env().ok %>
      fail-on: <% task().result != true %>
      publish:
        checked: <% task().result %>
slow:
  tasks:
    first:
      action: std.sleep seconds=0.5
      on-success: second
    second:
      action: std.noop
items:
  tasks:
    each:
      with-items: v in <% [1, 2, 3] %>
      workflow: item
      input:
        value: <% $.v %>
item:
  input:
    - value
  tasks:
    inspect:
      action: std.noop
      on-success:
        - fail: <% $.value = env().bad %>
waits:
  tasks:
    hold:
      action: std.async_noop
      publish:
        got: <% task().result %>
"""


def api_error(call: Callable[[], Any]) -> client_base.APIException:
    with pytest.raises(client_base.APIException) as err:
        call()
    return err.value


@pytest.fixture
def wfs(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def test_execution_crud(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("greet", workflow_input={"name": "Ann"}, description="first run")
    assert ex.workflow_name == "greet" and ex.description == "first run"
    assert ex.state in ("RUNNING", "SUCCESS")
    done = wait_execution(client, ex.id)
    assert done.state == "SUCCESS"
    assert json.loads(done.output) == {"text": "Hello, Ann"}
    assert json.loads(done.input)["name"] == "Ann"
    assert [e.id for e in client.executions.list()] == [ex.id]

    updated = client.executions.update(ex.id, None, description="renamed")
    assert (updated.description, updated.state) == ("renamed", "SUCCESS")
    assert client.executions.get(ex.id).description == "renamed"

    client.executions.delete(ex.id)
    assert client.executions.list() == []
    err = api_error(lambda: client.executions.get(ex.id))
    assert err.error_code == 404 and ex.id in err.error_message


def test_execution_list_sorting_limit_and_filters(wfs: Any) -> None:
    client = wfs
    ok = client.executions.create("greet", workflow_input={"name": "a"})
    wait_execution(client, ok.id)
    failed = client.executions.create("needs_env", env={"ok": False})
    assert wait_execution(client, failed.id).state == "ERROR"

    oldest_first = client.executions.list(sort_keys="created_at,id", sort_dirs="asc")
    assert [e.id for e in oldest_first][0] == ok.id
    assert len(client.executions.list(limit=1)) == 1
    assert [e.id for e in client.executions.list(state="ERROR")] == [failed.id]
    assert [e.id for e in client.executions.list(workflow_name="greet")] == [ok.id]
    params = json.loads(client.executions.get(failed.id).params)
    assert params["env"] == {"ok": False}


def test_namespace_and_source_execution(client: Any) -> None:
    client.workflows.create(WORKFLOWS, namespace="team")
    ex = client.executions.create("greet", namespace="team", workflow_input={"name": "Bo"})
    assert ex.workflow_namespace == "team"
    wait_execution(client, ex.id)
    copy = client.executions.create(source_execution_id=ex.id)
    assert copy.id != ex.id and copy.workflow_name == "greet"
    assert ex.id in copy.description
    done = wait_execution(client, copy.id)
    assert json.loads(done.output) == {"text": "Hello, Bo"}
    assert copy.workflow_namespace == "team"


def test_tasks_list_get_and_rerun_with_env(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("needs_env", env={"ok": False})
    assert wait_execution(client, ex.id).state == "ERROR"
    (task,) = client.tasks.list(ex.id)
    assert (task.name, task.state, task.workflow_execution_id) == ("check", "ERROR", ex.id)
    assert [t.id for t in client.tasks.list()] == [task.id]
    got = client.tasks.get(task.id)
    assert got.state == "ERROR" and got.state_info

    rerun = client.tasks.rerun(task.id, env={"ok": True})
    assert rerun.id == task.id and rerun.state == "RUNNING"
    done = wait_execution(client, ex.id)
    assert done.state == "SUCCESS"
    assert json.loads(done.params)["env"] == {"ok": True}
    task = client.tasks.get(task.id)
    assert task.state == "SUCCESS" and json.loads(task.result) is True
    assert json.loads(task.published) == {"checked": True}


def test_report(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("needs_env", env={"ok": False})
    wait_execution(client, ex.id)
    report = client.executions.get_report(ex.id)
    assert report["statistics"]["error_tasks_count"] == 1
    root = report["root_workflow_execution"]
    assert (root["id"], root["state"]) == (ex.id, "ERROR")
    (task,) = root["task_executions"]
    assert task["name"] == "check" and task["state"] == "ERROR"
    assert [a["name"] for a in task["action_executions"]] == ["std.echo"]
    stats = client.executions.get_report(ex.id, statistics_only=True)
    assert "root_workflow_execution" not in stats and stats["statistics"]["error_tasks_count"] == 1


def test_pause_and_resume(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("slow")
    paused = client.executions.update(ex.id, "PAUSED")
    assert paused.state == "PAUSED"
    time.sleep(0.8)
    assert client.executions.get(ex.id).state == "PAUSED"
    names = {t.name for t in client.tasks.list(ex.id)}
    assert names == {"first"}, "no task may start while the execution is paused"
    resumed = client.executions.update(ex.id, "RUNNING")
    assert resumed.state == "RUNNING"
    assert wait_execution(client, ex.id).state == "SUCCESS"
    assert {t.name: t.state for t in client.tasks.list(ex.id)} == {"first": "SUCCESS", "second": "SUCCESS"}


def test_cancel_and_fail_running_executions(wfs: Any) -> None:
    client = wfs
    one = client.executions.create("waits")
    cancelled = client.executions.update(one.id, "CANCELLED")
    assert cancelled.state == "CANCELLED"
    assert client.executions.get(one.id).state == "CANCELLED"
    two = client.executions.create("waits")
    failed = client.executions.update(two.id, "ERROR")
    assert failed.state == "ERROR"
    assert client.executions.get(two.id).state == "ERROR"


def test_env_update_on_a_paused_execution(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("waits", env={"a": 1})
    client.executions.update(ex.id, "PAUSED")
    client.executions.update(ex.id, None, env={"b": 2})
    assert json.loads(client.executions.get(ex.id).params)["env"] == {"a": 1, "b": 2}
    client.executions.update(ex.id, "CANCELLED")


def test_async_action_in_a_workflow_completed_through_the_api(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("waits")
    task = wait_for("the task to start", lambda: client.tasks.list(ex.id))[0]
    (action,) = wait_for("the action execution", lambda: client.action_executions.list(task.id))
    assert (action.name, action.state, action.task_name) == ("std.async_noop", "RUNNING", "hold")
    assert client.executions.get(ex.id).state == "RUNNING"
    updated = client.action_executions.update(action.id, "SUCCESS", {"answer": 42})
    assert updated.state == "SUCCESS"
    assert json.loads(client.action_executions.get(action.id).output) == {"result": {"answer": 42}}
    done = wait_execution(client, ex.id)
    assert done.state == "SUCCESS"
    assert json.loads(client.tasks.get(task.id).published) == {"got": {"answer": 42}}


def test_ad_hoc_action_executions(client: Any) -> None:
    ran = client.action_executions.create("std.echo", {"output": "hi"})
    assert json.loads(ran.output) == {"result": "hi"} and ran.state == "SUCCESS"
    assert client.action_executions.list() == [], "a sync run without save_result stores nothing"

    saved = client.action_executions.create("std.echo", {"output": "kept"}, save_result=True)
    assert saved.state in ("RUNNING", "SUCCESS") and saved.id
    done = wait_for(
        "the saved action",
        lambda: (a := client.action_executions.get(saved.id)).state == "SUCCESS" and a,
    )
    assert json.loads(done.output) == {"result": "kept"}
    assert json.loads(done.input) == {"output": "kept"}
    assert [a.id for a in client.action_executions.list()] == [saved.id]

    pending = client.action_executions.create("std.async_noop")
    assert pending.state == "RUNNING"
    client.action_executions.update(pending.id, "ERROR", {"why": "gave up"})
    failed = client.action_executions.get(pending.id)
    assert failed.state == "ERROR" and json.loads(failed.output) == {"result": {"why": "gave up"}}

    err = api_error(lambda: client.action_executions.delete(saved.id))
    assert err.error_code == 403
    assert client.action_executions.get(saved.id).state == "SUCCESS"


def test_resume_with_items_of_sub_workflows_reruns_only_the_failed_item(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("items", env={"bad": 2})
    assert wait_execution(client, ex.id).state == "ERROR"
    (each,) = client.tasks.list(ex.id)
    before = {e.id: e.state for e in client.executions.list(task=each.id)}
    assert sorted(before.values()) == ["ERROR", "SUCCESS", "SUCCESS"]
    client.tasks.rerun(each.id, reset=False, env={"bad": 0})
    assert wait_execution(client, ex.id, timeout=5).state == "SUCCESS"
    after = {e.id: e.state for e in client.executions.list(task=each.id)}
    (new,) = set(after) - set(before)
    assert after[new] == "SUCCESS" and json.loads(client.executions.get(new).input) == {"value": 2}


# -- refusals: an error that names the problem, and nothing changes ------------------


def test_create_refusals(wfs: Any) -> None:
    client = wfs
    err = api_error(lambda: client.executions.create("no_such_wf"))
    assert err.error_code == 404 and "no_such_wf" in err.error_message
    err = api_error(lambda: client.executions.create("greet", workflow_input={"greeting": "Hi"}))
    assert err.error_code == 400 and "missing" in err.error_message and "'name'" in err.error_message
    err = api_error(lambda: client.executions.create("greet", workflow_input={"name": "x", "colour": "red"}))
    assert err.error_code == 400 and "unexpected" in err.error_message and "'colour'" in err.error_message
    assert client.executions.list() == []


def test_state_change_refusals_leave_the_execution_alone(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("greet", workflow_input={"name": "x"})
    assert wait_execution(client, ex.id).state == "SUCCESS"
    for state in ("RUNNING", "PAUSED"):
        err = api_error(lambda state=state: client.executions.update(ex.id, state))
        assert 400 <= err.error_code < 500, (state, err.error_code)
        assert client.executions.get(ex.id).state == "SUCCESS"
    err = api_error(lambda: client.executions.update(ex.id, "BOGUS"))
    assert 400 <= err.error_code < 500 and "BOGUS" in err.error_message
    assert client.executions.get(ex.id).state == "SUCCESS"

    (task,) = client.tasks.list(ex.id)
    # NOTE: a SUCCESS task may be re-run (tests/functional/test_rerun_succeeded.py), not without reset
    err = api_error(lambda: client.tasks.rerun(task.id, reset=False))
    assert 400 <= err.error_code < 500 and "with-items" in err.error_message
    assert client.tasks.get(task.id).state == "SUCCESS"
    assert client.executions.get(ex.id).state == "SUCCESS"


def test_deleting_a_running_execution_needs_force(wfs: Any) -> None:
    client = wfs
    ex = client.executions.create("waits")
    err = api_error(lambda: client.executions.delete(ex.id))
    assert err.error_code == 403
    assert client.executions.get(ex.id).state == "RUNNING"
    client.executions.delete(ex.id, force=True)
    assert client.executions.list() == []


def test_update_refusals(wfs: Any) -> None:
    client = wfs
    running = client.executions.create("waits", env={"a": 1})
    err = api_error(lambda: client.executions.update(running.id, None))
    assert err.error_code == 400 and "state" in err.error_message
    err = api_error(lambda: client.executions.update(running.id, "PAUSED", description="both"))
    assert err.error_code == 400 and "description" in err.error_message
    err = api_error(lambda: client.executions.update(running.id, "CANCELLED", env={"b": 2}))
    assert err.error_code == 400 and "env" in err.error_message
    err = api_error(lambda: client.executions.update(running.id, None, env={"b": 2}))
    assert err.error_code == 403 and "PAUSED" in err.error_message, "env changes only while paused"
    ex = client.executions.get(running.id)
    assert (ex.state, ex.description, json.loads(ex.params)["env"]) == ("RUNNING", "", {"a": 1})

    client.executions.update(running.id, "PAUSED")
    resumed = client.executions.update(running.id, "RUNNING", env={"b": 2})
    assert resumed.state == "RUNNING"
    assert json.loads(client.executions.get(running.id).params)["env"] == {"a": 1, "b": 2}
    client.executions.update(running.id, "CANCELLED")


def test_action_execution_refusals(client: Any) -> None:
    err = api_error(lambda: client.action_executions.create("std.async_noop", run_sync=True))
    assert err.error_code == 400
    err = api_error(lambda: client.action_executions.create("no.such_action"))
    assert 400 <= err.error_code < 500 and "no.such_action" in err.error_message
    err = api_error(lambda: client.action_executions.create("std.echo", {"output": 1, "colour": "red"}))
    assert err.error_code == 400 and "colour" in err.error_message
    err = api_error(lambda: client.action_executions.create("std.echo", {}))
    assert err.error_code == 400 and "output" in err.error_message
    pending = client.action_executions.create("std.async_noop")
    err = api_error(lambda: client.action_executions.update(pending.id, "BOGUS"))
    assert err.error_code == 400 and "BOGUS" in err.error_message
    assert client.action_executions.get(pending.id).state == "RUNNING"
