"""A delayed task survives the engine that scheduled it: another engine carries on (SIGKILL)."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from tests.integration.cluster import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]

DELAYED = """\
version: '2.0'
it_delayed:
  tasks:
    wait:
      action: std.echo output=late
      wait-before: 4
      publish:
        said: <% task().result %>
"""


def _task_state(database: sa.Engine, ex_id: str) -> str | None:
    with database.connect() as conn:
        return conn.execute(
            sa.text("SELECT state FROM task_executions_v2 WHERE workflow_execution_id = :id"), {"id": ex_id}
        ).scalar()


def test_a_delayed_task_resumes_after_its_engine_is_killed(cluster: Cluster, database: sa.Engine) -> None:
    client = cluster.client()
    client.workflows.create(DELAYED)
    ex = client.executions.create("it_delayed")
    deadline = time.monotonic() + 10
    while _task_state(database, ex.id) != "DELAYED":
        assert time.monotonic() < deadline, "the task never became DELAYED"
        time.sleep(0.1)
    # The first engine scheduled the delay; a second one starts, then the first dies hard.
    cluster.add("engine-b", "engine")
    cluster.processes["engine-b"].start()
    cluster.wait_logged("engine-b", "Engine started")
    cluster.processes["engine"].kill()
    done = cluster.wait_execution(ex.id, timeout=40)
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output)["said"] == "late"
