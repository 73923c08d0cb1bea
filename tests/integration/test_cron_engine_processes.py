"""50 cron triggers due at the same moment, two engine processes: exactly 50 executions.

The triggers are made through the real client against the API process; the
engines are two ``mistral-server --server engine`` processes on the shared
PostgreSQL, each with its own scheduler loop looking for due triggers every
second. (test_cron_engines.py holds two loops at the very moment of the claim;
this test is the whole service as it is deployed.)
"""

from __future__ import annotations

import datetime
import json
import re
import time
from typing import Any

import pytest

from tests.integration.cluster import Cluster
from tests.polling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]

TRIGGERS = 50
#: Time to make every trigger before the first of them is due.
LEAD = datetime.timedelta(seconds=12)
WORKFLOW = """\
version: '2.0'
it_cron_target:
  input: [n]
  tasks:
    only:
      action: std.echo output=<% $.n %>
"""
FIRED = re.compile(r"Cron trigger \S+ \((it_cron_\d+)\) due at .* starts execution (\S+)")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _fired(cluster: Cluster) -> list[tuple[str, str, str]]:
    """(engine, trigger, execution) for each firing the engine logs tell of."""
    found = []
    for name in ("engine", "engine-b"):
        log = cluster.processes[name].log.read_text(errors="replace")
        found += [(name, *match.groups()) for match in FIRED.finditer(log)]
    return found


def _cron_executions(client: Any) -> list[Any]:
    return client.executions.list(workflow_name="it_cron_target", limit=1000)


def test_fifty_triggers_due_together_start_fifty_executions(cluster: Cluster) -> None:
    cluster.add("engine-b", "engine")
    cluster.processes["engine-b"].start()
    cluster.wait_logged("engine-b", "Engine started")
    client = cluster.client()
    client.workflows.create(WORKFLOW)

    due = _utcnow().replace(microsecond=0) + LEAD
    first_time = due.strftime("%Y-%m-%d %H:%M:%S")
    for i in range(TRIGGERS):
        name = f"it_cron_{i:02}"
        client.cron_triggers.create(name, "it_cron_target", {"n": i}, first_time=first_time, count=1)
    assert _utcnow() < due, "made the triggers too slowly: some were due before the last was made"

    wait_for(
        f"{TRIGGERS} cron executions",
        lambda: len(_cron_executions(client)) >= TRIGGERS,
        timeout=LEAD.total_seconds() + 40,
        check=cluster.check_alive,
    )
    time.sleep(3)  # more scheduler rounds on both engines: nothing may fire twice

    executions = _cron_executions(client)
    assert len(executions) == TRIGGERS
    assert sorted(json.loads(ex.input)["n"] for ex in executions) == list(range(TRIGGERS))
    assert all("it_cron_" in ex.description for ex in executions)
    assert client.cron_triggers.list() == []  # each had one execution left, and used it
    fired = _fired(cluster)
    assert sorted(trigger for _, trigger, _ in fired) == [f"it_cron_{i:02}" for i in range(TRIGGERS)]
    for ex in executions:
        assert cluster.wait_execution(ex.id).state == "SUCCESS"
    # An action sent before its row was committed comes back to an engine that cannot see it yet.
    for name in ("engine", "engine-b"):
        assert not cluster.processes[name].logged("Result for unknown action execution")
