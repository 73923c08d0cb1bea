"""Re-running a SUCCESS task and what follows it ("retry from node") through the real client and CLI.

Every task calls a local HTTP server, so each action's runs are counted: the re-run task and
what follows it run once more, the rest not at all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.conftest import cli_json
from tests.functional.hooks import Hooks
from tests.polling import wait_execution, wait_for

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _workflows(url: str) -> str:
    def call(key: str) -> str:
        return f"std.http url={url}/{key} method=POST"

    return f"""
version: '2.0'
chain:
  output:
    final: <% $.cv %>
  tasks:
    a:
      action: {call("a")}
      publish:
        av: a1
      on-success: b
    b:
      action: {call("b")}
      publish:
        bv: <% env().v %>
      on-success: c
    c:
      action: {call("c")}
      publish:
        cv: <% $.av %>-<% $.bv %>
fan:
  output:
    final: <% $.ev %>
  tasks:
    a:
      action: {call("fa")}
      on-success: [b, x]
    b:
      action: {call("fb")}
      publish:
        bv: <% env().v %>
      on-success: j
    x:
      action: {call("fx")}
      publish:
        xv: x1
      on-success: j
    j:
      join: all
      action: {call("fj")}
      on-success: e
    e:
      action: {call("fe")}
      publish:
        ev: <% $.bv %>-<% $.xv %>
held:
  tasks:
    a:
      action: std.noop
      on-success: h
    h:
      action: std.async_noop
"""


@pytest.fixture
def wfs(client: Any, hooks: Hooks) -> Any:
    client.workflows.create(_workflows(hooks.url))
    return client


def _tasks(client: Any, ex_id: str) -> dict[str, list[Any]]:
    by_name: dict[str, list[Any]] = {}
    for task in client.tasks.list(ex_id):
        by_name.setdefault(task.name, []).append(task)
    return by_name


def _counts(hooks: Hooks, *keys: str) -> list[int]:
    return [hooks.count(f"/{key}") for key in keys]


def test_a_chain_reruns_from_b_with_its_context_and_keeps_the_old_results(wfs: Any, hooks: Hooks) -> None:
    ex = wfs.executions.create("chain", env={"v": "one"})
    assert wait_execution(wfs, ex.id).state == "SUCCESS"
    assert json.loads(wfs.executions.get(ex.id).output) == {"final": "a1-one"}
    (b,) = _tasks(wfs, ex.id)["b"]

    rerun = wfs.tasks.rerun(b.id, env={"v": "two"})
    assert (rerun.id, rerun.state) == (b.id, "RUNNING")
    assert wait_execution(wfs, ex.id).state == "SUCCESS"
    assert json.loads(wfs.executions.get(ex.id).output) == {"final": "a1-two"}
    assert _counts(hooks, "a", "b", "c") == [1, 2, 2]
    tasks = _tasks(wfs, ex.id)
    assert [t.id for t in tasks["b"]] == [b.id] and len(tasks["a"]) == 1
    old_c, new_c = tasks["c"]
    assert json.loads(old_c.runtime_context)["superseded_by"] == b.id
    assert json.loads(wfs.tasks.get(old_c.id).published) == {"cv": "a1-one"}
    assert json.loads(wfs.tasks.get(new_c.id).published) == {"cv": "a1-two"}
    assert len(wfs.action_executions.list(b.id)) == 2  # the first run's action stays in history

    # The superseded execution is history: it cannot be re-run itself.
    with pytest.raises(Exception, match="replaced it"):
        wfs.tasks.rerun(old_c.id)


def test_a_fan_out_reruns_one_branch_through_the_join(wfs: Any, hooks: Hooks, cli: Any) -> None:
    ex = wfs.executions.create("fan", env={"v": "one"})
    assert wait_execution(wfs, ex.id).state == "SUCCESS"
    (b,) = _tasks(wfs, ex.id)["b"]

    rerun = cli_json(cli("task-rerun", b.id, "-e", '{"v": "two"}', "-f", "json"))
    assert (rerun["ID"], rerun["State"]) == (b.id, "RUNNING")
    assert wait_execution(wfs, ex.id).state == "SUCCESS"
    assert json.loads(wfs.executions.get(ex.id).output) == {"final": "two-x1"}
    assert _counts(hooks, "fa", "fb", "fx", "fj", "fe") == [1, 2, 1, 2, 2]
    tasks = _tasks(wfs, ex.id)
    assert [len(tasks[n]) for n in ("a", "b", "x", "j", "e")] == [1, 1, 1, 2, 2]
    assert all(t.state == "SUCCESS" for group in tasks.values() for t in group)
    # The report shows the superseded executions and counts only the current ones.
    report = wfs.executions.get_report(ex.id, errors_only=False)
    assert (report["statistics"]["total_tasks_count"], report["statistics"]["success_tasks_count"]) == (5, 5)
    shown = [(t["name"], t["superseded_by"]) for t in report["root_workflow_execution"]["task_executions"]]
    assert sorted(shown, key=str) == sorted(
        [("a", None), ("b", None), ("x", None), ("j", b.id), ("j", None), ("e", b.id), ("e", None)], key=str
    )


def test_a_succeeded_task_of_a_running_execution_is_not_rerun(wfs: Any) -> None:
    ex = wfs.executions.create("held")
    a = wait_for_task(wfs, ex.id, "a", "SUCCESS")
    with pytest.raises(Exception, match="while its execution .* is RUNNING"):
        wfs.tasks.rerun(a.id)
    assert wfs.tasks.get(a.id).state == "SUCCESS" and wfs.executions.get(ex.id).state == "RUNNING"


def wait_for_task(client: Any, ex_id: str, name: str, state: str) -> Any:
    def found() -> Any:
        return next((t for t in client.tasks.list(ex_id) if t.name == name and t.state == state), None)

    return wait_for(f"task {name} in {state}", found)
