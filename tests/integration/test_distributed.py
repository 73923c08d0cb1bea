"""The distributed deployment: separate api, engine and executor processes over RabbitMQ and PostgreSQL.

Everything goes through the real python-mistralclient, its ``mistral`` CLI and
plain HTTP; which executor ran what is read from the shared database.
"""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml

from tests.integration.cluster import EXECUTORS, Cluster, Rabbit
from tests.integration.conftest import cli_json
from tests.polling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]

#: Seconds a task may sit RUNNING after all its actions finished before the test calls it stuck.
STUCK_GRACE = 8.0


def fan_out(name: str, width: int) -> str:
    """``start`` → ``width`` echo branches (output = index) → a ``join: all`` task gathering them."""
    tasks: dict[str, Any] = {
        "start": {"action": "std.noop", "on-success": [f"b{i}" for i in range(width)]},
        "join": {
            "join": "all",
            "action": "std.echo",
            "input": {"output": f"<% range({width}).select(task(concat('b', str($))).result) %>"},
            "publish": {"values": "<% task().result %>", "total": "<% task().result.sum() %>"},
        },
    }
    for i in range(width):
        tasks[f"b{i}"] = {
            "action": f"std.echo output={i}",
            "publish": {f"v{i}": "<% task().result %>"},
            "on-success": ["join"],
        }
    output = {"values": "<% $.values %>", "total": "<% $.total %>", "last": f"<% $.v{width - 1} %>"}
    workflow = {"output": output}
    return yaml.safe_dump({"version": "2.0", name: {**workflow, "tasks": tasks}}, sort_keys=False)


def hosts_of(database: sa.Engine, wf_ex_id: str) -> dict[str | None, int]:
    """How many of the execution's action executions each executor ran."""
    with database.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.executor_host, count(*) FROM action_executions_v2 a "
                "JOIN task_executions_v2 t ON a.task_execution_id = t.id "
                "WHERE t.workflow_execution_id = :id GROUP BY a.executor_host"
            ),
            {"id": wf_ex_id},
        )
        return {host: count for host, count in rows}


def watchdog(database: sa.Engine, wf_ex_id: str) -> Callable[[], None]:
    """Raise when a task stays RUNNING although every action it started has finished.

    Nothing would ever move such a task on, so waiting for the timeout only hides the problem.
    """
    since: dict[str, float] = {}

    def check() -> None:
        with database.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT t.id, t.name, t.runtime_context, count(a.id), "
                    "count(a.id) FILTER (WHERE a.state IN ('SUCCESS', 'ERROR', 'CANCELLED')) "
                    "FROM task_executions_v2 t JOIN action_executions_v2 a ON a.task_execution_id = t.id "
                    "WHERE t.workflow_execution_id = :id AND t.state = 'RUNNING' "
                    "GROUP BY t.id, t.name, t.runtime_context"
                ),
                {"id": wf_ex_id},
            ).all()
        now = time.monotonic()
        for task_id, name, runtime, total, finished in rows:
            if total == 0 or finished < total:
                since.pop(task_id, None)
                continue
            first = since.setdefault(task_id, now)
            if now - first > STUCK_GRACE:
                raise AssertionError(
                    f"task {name} ({task_id}) is still RUNNING {now - first:.0f} s after all its "
                    f"{total} action executions finished; runtime_context={runtime}"
                )

    return check


def run(cluster: Cluster, database: sa.Engine, workflow: str, wf_input: dict | None = None,
        timeout: float = 30.0) -> Any:  # fmt: skip
    ex = cluster.client().executions.create(workflow, wf_input or {})
    return cluster.wait_execution(ex.id, timeout=timeout, stuck=watchdog(database, ex.id))


def test_the_run_has_its_own_exchange(cluster: Cluster, rabbit: Rabbit) -> None:
    """[DEFAULT] control_exchange is honoured: the processes declared this run's exchange."""
    with rabbit.kombu_connection() as conn:
        channel = conn.channel()
        try:
            channel.exchange_declare(exchange=rabbit.exchange, type="topic", passive=True)
        finally:
            channel.close()


def test_fan_out_and_join_spread_over_both_executors(
    cluster: Cluster, client: Any, database: sa.Engine
) -> None:
    client.workflows.create(fan_out("it_fan_out", 40))
    ex = run(cluster, database, "it_fan_out")
    assert ex.state == "SUCCESS", ex.state_info
    assert json.loads(ex.output) == {"values": list(range(40)), "total": 780, "last": 39}
    tasks = client.tasks.list(workflow_execution_id=ex.id)
    assert len(tasks) == 42
    assert {t.name: t.state for t in tasks if t.state != "SUCCESS"} == {}
    hosts = hosts_of(database, ex.id)
    assert sum(hosts.values()) == 42
    assert set(hosts) == {"exec-a", "exec-b"}, hosts
    assert hosts["exec-a"] > 0 and hosts["exec-b"] > 0


def _series(url: str) -> str:
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


def _sample(text: str, line_start: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))


def test_each_daemon_serves_its_own_series(cluster: Cluster, client: Any, database: sa.Engine) -> None:
    """The engine and each executor on their [metrics] port; the API's /metrics is the API process's."""
    engine_url = f"http://127.0.0.1:{cluster.metrics_ports['engine']}/metrics"
    started = _sample(_series(engine_url), "mistral_executions_started_total")
    client.workflows.create(fan_out("it_metrics", 6))
    assert run(cluster, database, "it_metrics").state == "SUCCESS"
    engine = _series(engine_url)
    assert _sample(engine, "mistral_executions_started_total") == started + 1
    assert _sample(engine, 'mistral_executions_finished_total{state="SUCCESS"}') >= 1
    assert _sample(engine, "mistral_engine_results_applied_total") >= 8
    ran = 0.0
    for host in EXECUTORS:
        text = _series(f"http://127.0.0.1:{cluster.metrics_ports[host]}/metrics")
        assert f'mistral_executor_actions_running{{executor="{host}"}}' in text
        ran += _sample(text, "mistral_action_duration_seconds_count")
    assert ran >= 8
    api = _series(cluster.v2.removesuffix("/v2") + "/metrics")
    assert _sample(api, "mistral_executions_started_total") == 0  # the engine's, not the API's


def test_cli_against_the_distributed_server(cluster: Cluster, cli: Any, tmp_path: pathlib.Path) -> None:
    definition = tmp_path / "it_cli.yaml"
    definition.write_text(
        """\
version: '2.0'
it_cli:
  input: [name]
  output:
    greeting: <% $.greeting %>
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %>"
      publish:
        greeting: <% task().result %>
"""
    )
    created = cli_json(cli("workflow-create", str(definition), "-f", "json"))
    assert [w["Name"] for w in created] == ["it_cli"]
    started = cli_json(cli("execution-create", "it_cli", '{"name": "cluster"}', "-f", "json"))
    assert started["Workflow name"] == "it_cli"
    ex_id = started["ID"]
    cluster.wait_execution(ex_id)

    got = cli_json(cli("execution-get", ex_id, "-f", "json"))
    assert (got["ID"], got["State"]) == (ex_id, "SUCCESS")
    assert json.loads(cli("execution-get-output", ex_id).stdout) == {"greeting": "Hello, cluster"}
    tasks = cli_json(cli("task-list", ex_id, "-f", "json"))
    assert [(t["Name"], t["State"]) for t in tasks] == [("greet", "SUCCESS")]
    actions = cli_json(cli("action-execution-list", "-f", "json"))
    greet = [a for a in actions if a.get("Task name") == "greet"]
    assert [(a["Name"], a["State"]) for a in greet] == [("std.echo", "SUCCESS")]

    assert json.loads(cli("run-action", "std.echo", '{"output": "hi"}').stdout) == {"result": "hi"}

    saved = cli_json(cli("run-action", "std.echo", '{"output": "x"}', "--save-result", "-f", "json"))
    assert saved["Name"] == "std.echo"

    def finished() -> Any:
        body = cluster.request("GET", f"/action_executions/{saved['ID']}").json()
        return body if body["state"] in ("SUCCESS", "ERROR") else None

    body = wait_for(f"action execution {saved['ID']}", finished, 30)
    assert body["state"] == "SUCCESS", body
    assert json.loads(cli("action-execution-get-output", saved["ID"]).stdout) == {"result": "x"}


def test_work_goes_to_the_surviving_executor(cluster: Cluster, client: Any, database: sa.Engine) -> None:
    """An executor dies (SIGKILL, no work running): the next workflow runs on the other one."""
    cluster.processes["exec-a"].kill()
    try:
        client.workflows.create(fan_out("it_fan_small", 10))
        ex = run(cluster, database, "it_fan_small")
        assert ex.state == "SUCCESS", ex.state_info
        assert json.loads(ex.output)["total"] == 45
        assert hosts_of(database, ex.id) == {"exec-b": 12}
    finally:
        cluster.restart("exec-a")


def test_target_routes_every_item_to_its_executor(cluster: Cluster, client: Any, database: sa.Engine) -> None:
    client.workflows.create(
        """\
version: '2.0'
it_target:
  tasks:
    routed:
      with-items: i in <% range(20) %>
      action: std.echo output=<% $.i %>
      target: exec-b
"""
    )
    ex = run(cluster, database, "it_target")
    assert ex.state == "SUCCESS", ex.state_info
    [listed] = client.tasks.list(workflow_execution_id=ex.id)
    task = client.tasks.get(listed.id)
    assert task.state == "SUCCESS"
    assert json.loads(task.result) == list(range(20))
    assert hosts_of(database, ex.id) == {"exec-b": 20}


DYNAMIC_CODE = """\
import os

from mistral_lib import actions


class Square(actions.Action):
    def __init__(self, n):
        self.n = n

    def run(self, context):
        return {"square": self.n * self.n, "pid": os.getpid()}
"""


def test_a_dynamic_action_runs_on_the_executors(cluster: Cluster, client: Any, database: sa.Engine) -> None:
    """The code crosses RabbitMQ in the action request and runs in a child of each executor process."""
    client.code_sources.create("it_squares", DYNAMIC_CODE)
    client.dynamic_actions.create("it_square", "Square", "it_squares")
    client.workflows.create(
        """\
version: '2.0'
it_dynamic:
  tasks:
    squares:
      with-items: n in <% range(6) %>
      action: it_square n=<% $.n %>
      publish:
        squares: <% task().result.square %>
        pids: <% task().result.pid %>
"""
    )
    ex = run(cluster, database, "it_dynamic")
    assert ex.state == "SUCCESS", ex.state_info
    output = json.loads(ex.output)
    assert output["squares"] == [n * n for n in range(6)]
    executors = {p.popen.pid for name, p in cluster.processes.items() if name.startswith("exec")}
    assert not set(output["pids"]) & executors, "the code ran inside an executor process"
    assert sum(hosts_of(database, ex.id).values()) == 6


def test_with_items_of_a_thousand(cluster: Cluster, client: Any, database: sa.Engine) -> None:
    client.workflows.create(
        """\
version: '2.0'
it_many:
  tasks:
    items:
      with-items: i in <% range(1000) %>
      action: std.noop
"""
    )
    ex = run(cluster, database, "it_many", timeout=60)
    assert ex.state == "SUCCESS", ex.state_info
    [task] = client.tasks.list(workflow_execution_id=ex.id)
    body = cluster.request("GET", f"/tasks/{task.id}").json()
    assert body["state"] == "SUCCESS"
    assert isinstance(body["result"], str)
    assert json.loads(body["result"]) == [None] * 1000
    assert sum(hosts_of(database, ex.id).values()) == 1000


def test_a_test_run_gives_its_mocked_results_across_processes(
    cluster: Cluster, client: Any, database: sa.Engine
) -> None:
    """Mocked results go from the engine to an engine over RabbitMQ (apply_results), never to an executor."""
    client.workflows.create(
        """\
version: '2.0'
it_mocked:
  tasks:
    fetch:
      action: std.http url=http://127.0.0.1:9/never
      publish:
        got: <% task().result %>
      on-success: each
    each:
      with-items: n in <% range(20) %>
      action: std.echo output=<% $.n %>
"""
    )
    ex = client.executions.create("it_mocked", {}, mock_actions={"fetch": "mocked", "each": 7})
    done = cluster.wait_execution(ex.id, timeout=30.0, stuck=watchdog(database, ex.id))
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output)["got"] == "mocked" and done.test_run is True
    assert hosts_of(database, ex.id) == {None: 21}  # no executor took any of them
