"""The embedded server's API reader process: same answers as the engine's process, ends with it, comes back.

``mistral-server --server all`` on an SQLite file: the reader process listens on [api] port,
the engine's process on a local port it logs. Every answer is compared between the two.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.integration import processes
from tests.integration.processes import Process
from tests.polling import wait_for

START_TIMEOUT = 60.0

WORKFLOW = """\
version: '2.0'
it_reader_flow:
  input: [n]
  tasks:
    one:
      action: std.echo output=<% $.n %>
      publish:
        said: <% task().result %>
      on-success: [two]
    two:
      action: std.noop
"""


class Embedded:
    def __init__(self, workdir: pathlib.Path) -> None:
        self.port = processes.free_port()
        self.v2 = f"http://127.0.0.1:{self.port}/v2"
        config = processes.write_config(
            workdir / "mistral.conf",
            {"DEFAULT": {"data_dir": workdir / "data"}, "api": {"host": "127.0.0.1", "port": self.port}},
        )
        processes.migrate(config)
        argv = [processes.MISTRAL_SERVER, "--config-file", str(config), "--server", "all"]
        self.process = Process("all", argv, workdir / "server.log", workdir)

    def start(self) -> None:
        self.process.start()
        self.wait_listening()

    def wait_listening(self) -> None:
        wait_for(
            f"GET {self.v2}",
            lambda: requests.get(self.v2, timeout=2).status_code == 200,
            START_TIMEOUT,
            check=self.process.check_alive,
        )

    def logged_pids(self, pattern: str) -> list[int]:
        return [int(pid) for pid in re.findall(pattern, self.process.log.read_text(errors="replace"))]

    @property
    def reader_pid(self) -> int:
        # NOTE: the reader process answers as soon as its server thread runs, and logs that it
        # listens a moment later: under load, the first answer came before the line.
        pids = wait_for(
            "the reader process's pid in the log",
            lambda: self.logged_pids(r"API reader process (\d+) listening"),
            START_TIMEOUT,
        )
        return pids[-1]

    @property
    def backend(self) -> str:
        found = re.findall(r"API of the engine's process on (http://\S+/v2)", self.process.log.read_text())
        return found[-1]


@pytest.fixture
def server(tmp_path: pathlib.Path) -> Iterator[Embedded]:
    embedded = Embedded(tmp_path)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.process.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # NOTE: a zombie (ended, not yet reaped by init) counts as ended.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def _same(server: Embedded, path: str, **params: Any) -> requests.Response:
    """GET ``path`` from both processes; the status and body must be the same."""
    read = requests.get(f"{server.v2}{path}", params=params, timeout=10)
    direct = requests.get(f"{server.backend}{path}", params=params, timeout=10)
    assert (read.status_code, read.json()) == (direct.status_code, direct.json()), path
    return read


def _run(server: Embedded) -> dict[str, Any]:
    posted = requests.post(
        f"{server.v2}/workflows", data=WORKFLOW, headers={"Content-Type": "text/plain"}, timeout=30
    )
    assert posted.status_code == 201, posted.text
    started = requests.post(
        f"{server.v2}/executions",
        json={"workflow_name": "it_reader_flow", "input": json.dumps({"n": 7})},
        timeout=30,
    )
    assert started.status_code == 201, started.text
    ex_id = started.json()["id"]
    return wait_for(
        "the execution to succeed",
        lambda: (
            (ex := requests.get(f"{server.v2}/executions/{ex_id}", timeout=5).json())["state"] == "SUCCESS"
            and ex
        ),
        30,
        interval=0.1,
    )


def test_reads_answer_as_the_engines_process_does(server: Embedded) -> None:
    ex = _run(server)
    assert json.loads(ex["output"])["said"] == 7
    assert server.reader_pid != server.process.popen.pid
    _same(server, f"/executions/{ex['id']}")
    _same(server, f"/executions/{ex['id']}", fields="state,output")
    tasks = _same(server, "/tasks", workflow_execution_id=ex["id"]).json()["tasks"]
    assert sorted(t["name"] for t in tasks) == ["one", "two"]
    _same(server, "/action_executions", limit=10)
    _same(server, "/workflows/it_reader_flow")
    _same(server, "/executions/no-such-id")
    _same(server, "/executions", unknown="1")
    path = f"/executions/{ex['id']}"
    head = requests.head(f"{server.v2}{path}", timeout=5)
    assert head.status_code == requests.head(f"{server.backend}{path}", timeout=5).status_code


def test_other_requests_reach_the_engines_process_unchanged(server: Embedded) -> None:
    ex = _run(server)
    # A fault answer comes back as the engine's process gave it.
    bad = requests.post(
        f"{server.v2}/workflows",
        data="version: '2.0'\nx: [",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert bad.status_code == 400 and "faultstring" in bad.json()
    assert bad.headers["X-Openstack-Request-Id"].startswith("req-")
    described = requests.put(
        f"{server.v2}/executions/{ex['id']}", json={"description": "changed"}, timeout=10
    )
    assert described.status_code == 200, described.text
    assert requests.get(f"{server.v2}/executions/{ex['id']}", timeout=5).json()["description"] == "changed"
    deleted = requests.delete(f"{server.v2}/executions/{ex['id']}", timeout=10)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(f"{server.v2}/executions/{ex['id']}", timeout=5).status_code == 404


def test_starts_are_answered_by_the_reader_through_its_bridge(server: Embedded) -> None:
    # NOTE: which process answered is not visible from outside (tests/unit/api/test_forwarding.py
    # checks the routing); here the start, its errors and its idempotence work over the bridge.
    ex = _run(server)
    missing = requests.post(f"{server.v2}/executions", json={"workflow_name": "no_such_flow"}, timeout=10)
    direct = requests.post(f"{server.backend}/executions", json={"workflow_name": "no_such_flow"}, timeout=10)
    assert (missing.status_code, missing.json()) == (direct.status_code, direct.json())
    assert missing.status_code == 404 and "no_such_flow" in missing.json()["faultstring"]
    again = requests.post(f"{server.v2}/executions", json={"id": ex["id"], "workflow_name": "x"}, timeout=10)
    assert (again.status_code, again.json()["id"]) == (201, ex["id"])


def test_metrics_through_the_reader_are_the_engines_process(server: Embedded) -> None:
    # NOTE: the engine and executor record in the engine's process; the reader passes /metrics on.
    root = server.v2.removesuffix("/v2")
    _run(server)
    text = requests.get(f"{root}/metrics", timeout=10).text
    started = [line for line in text.splitlines() if line.startswith("mistral_executions_started_total ")]
    assert started and float(started[0].split()[1]) >= 1, text[:500]
    assert "mistral_action_duration_seconds_count" in text
    assert requests.get(f"{root}/healthcheck", timeout=10).status_code == 200


def test_a_reader_process_that_dies_is_started_again(server: Embedded) -> None:
    first = server.reader_pid
    os.kill(first, signal.SIGKILL)
    wait_for("another reader process", lambda: server.reader_pid != first, START_TIMEOUT)
    server.wait_listening()
    assert _run(server)["state"] == "SUCCESS"


def _cpus_of_threads(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="CPU affinity with two CPUs or more (Linux)",
)
def test_the_engines_process_keeps_to_one_cpu_and_its_reader_to_the_others(server: Embedded) -> None:
    everything = frozenset(os.sched_getaffinity(0))
    assert _run(server)["state"] == "SUCCESS"  # every service's threads have started
    engines = _cpus_of_threads(server.process.popen.pid)
    assert len(engines) == 1
    (engine,) = engines
    assert len(engine) == 1
    assert _cpus_of_threads(server.reader_pid) == {everything - engine}
    first = server.reader_pid
    os.kill(first, signal.SIGKILL)
    wait_for("another reader process", lambda: server.reader_pid != first, START_TIMEOUT)
    server.wait_listening()
    assert _cpus_of_threads(server.reader_pid) == {everything - engine}


def test_the_reader_process_ends_with_the_engines_process(server: Embedded) -> None:
    reader = server.reader_pid
    server.process.kill()
    deadline = time.monotonic() + 10
    while _alive(reader) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(reader)
