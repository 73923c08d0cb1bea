"""``mistral-worker`` as real processes against a live server: work shared, a worker killed, SIGTERM.

The command each worker runs is ``JOB`` below: it doubles ``n``, or (``hang`` in its input, the
first time) writes the marker file ``hang`` names and hangs, so a test knows an item is in hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import polling
from tests.functional import runs
from tests.functional.conftest import Server

WORKER = os.path.join(os.path.dirname(sys.executable), "mistral-worker")

JOB = """
import json, os, sys, time
data = json.load(sys.stdin)
if data.get("hang") and not os.path.exists(data["hang"]):
    open(data["hang"], "w").write(os.environ["MISTRAL_WORK_ITEM_ID"])
    time.sleep(float(data.get("for", 60)))
print(json.dumps({"double": data["n"] * 2, "attempt": os.environ["MISTRAL_WORK_ITEM_ATTEMPT"]}))
"""

SHARED = """
version: '2.0'
wf:
  tasks:
    double:
      with-items: n in <% range(0, 8) %>
      action: std.external n=<% $.n %>
      queue: procs
      tags: [cpu]
      publish:
        doubled: <% task().result.select($.double) %>
"""

HANGING = """
version: '2.0'
wf:
  input: [marker, seconds]
  tasks:
    slow:
      action: std.external n=21 hang=<% $.marker %> for=<% $.seconds %>
      queue: procs
      retry:
        count: 1
        delay: 0
"""


class Workers:
    """The worker processes a test started, each in a session of its own (it and its command's children)."""

    def __init__(self, api: Server, script: Path, queue: str) -> None:
        self.api, self.script, self.queue = api, script, queue
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *options: str) -> subprocess.Popen[str]:
        argv = [WORKER, "--url", self.api.v2, "--queue", self.queue, "--wait", "1", *options,
                "--", sys.executable, str(self.script)]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def workers(api: Server, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Workers]:
    """Workers of a queue of the test's own.

    NOTE: a worker killed during a claim leaves it waiting in the server, which may still take an
    item for nobody (until the lease runs out): another test's queue keeps that from this test.
    """
    script = tmp_path / "job.py"
    script.write_text(JOB)
    started = Workers(api, script, request.node.name)
    yield started
    started.stop_all()


def _items(api: Server, ex_id: str) -> list[dict[str, Any]]:
    return api.request("GET", "/work_items", params={"workflow_execution_id": ex_id}).json()["work_items"]


def test_workers_share_a_with_items_task_and_each_item_runs_once(api: Server, workers: Workers) -> None:
    first, second = workers.start("--tags", "cpu", "--name", "w1"), workers.start("--name", "w2")
    ex_id = runs.start(api, SHARED.replace("procs", workers.queue))
    done = runs.wait(api, ex_id, "SUCCESS", timeout=20)
    assert '"doubled": [0, 2, 4, 6, 8, 10, 12, 14]' in done["output"]
    items = _items(api, ex_id)
    assert (
        len(items) == 8 and {i["state"] for i in items} == {"done"} and {i["attempt"] for i in items} == {1}
    )
    for proc in (first, second):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_an_item_of_a_killed_worker_is_claimed_again_after_its_lease(
    api: Server, workers: Workers, tmp_path: Path
) -> None:
    marker = tmp_path / "in-hand"
    doomed = workers.start("--lease", "1", "--name", "doomed")
    ex_id = runs.start_with(
        api, HANGING.replace("procs", workers.queue), {"marker": str(marker), "seconds": 60}
    )
    polling.wait_for("the item in hand", marker.exists, timeout=10)
    os.killpg(doomed.pid, signal.SIGKILL)
    workers.start("--lease", "5", "--name", "heir")
    done = runs.wait(api, ex_id, "SUCCESS", timeout=15)
    (item,) = _items(api, ex_id)
    assert item["attempt"] == 2 and item["worker"] == "heir" and item["state"] == "done"
    task = api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"][0]
    actions = api.request("GET", f"/tasks/{task['id']}/action_executions").json()["action_executions"]
    assert len(actions) == 1 and done["state"] == "SUCCESS"


@pytest.mark.parametrize(("seconds", "grace", "state"), [(0.5, 10, "done"), (60, 0.3, "queued")])
def test_sigterm_finishes_the_item_in_hand_within_the_grace_or_gives_it_back(
    api: Server, workers: Workers, tmp_path: Path, seconds: float, grace: float, state: str
) -> None:
    marker = tmp_path / "in-hand"
    worker = workers.start("--grace", str(grace), "--lease", "30")
    hanging = HANGING.replace("procs", workers.queue)
    ex_id = runs.start_with(api, hanging, {"marker": str(marker), "seconds": seconds})
    polling.wait_for("the item in hand", marker.exists, timeout=10)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    (item,) = _items(api, ex_id)
    assert item["state"] == state
    if state == "queued":
        # NOTE: given back, not failed: its attempt is not counted, and the next worker runs it.
        assert item["attempt"] == 0
        workers.start("--name", "next")
        runs.wait(api, ex_id, "SUCCESS", timeout=15)
