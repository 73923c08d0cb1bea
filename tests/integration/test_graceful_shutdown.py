"""SIGTERM on the embedded server: finished action results are applied, the exit comes in time.

No PostgreSQL or RabbitMQ: ``mistral-server --server all`` on an SQLite file
in a temporary ``data_dir`` and the in-process transport.
"""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.integration import processes
from tests.integration.processes import Process
from tests.polling import wait_for

GRACE = 5.0
#: What the exit may take beyond the grace: the engine applying the last results, the process ending.
EXIT_MARGIN = 2.0
START_TIMEOUT = 45.0
COUNT = 20

SLOW_ECHO = """\
version: '2.0'
it_slow_echo:
  input: [n, delay]
  tasks:
    echo:
      action: std.echo output=<% $.n %> delay=<% $.delay %>
      publish:
        said: <% task().result %>
"""


class Embedded:
    """One ``mistral-server --server all`` on its own data dir, restartable on the same data."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.port = processes.free_port()
        self.v2 = f"http://127.0.0.1:{self.port}/v2"
        self.config = processes.write_config(
            workdir / "mistral.conf",
            {
                "DEFAULT": {"data_dir": workdir / "data"},
                "api": {"host": "127.0.0.1", "port": self.port},
                # Every action of the test runs at once: none waits queued in the pool.
                "executor": {"shutdown_grace": GRACE, "max_workers": 2 * COUNT},
            },
        )
        argv = [processes.MISTRAL_SERVER, "--config-file", str(self.config), "--server", "all"]
        self.process = Process("all", argv, workdir / "server.log", workdir)

    def migrate(self) -> None:
        processes.migrate(self.config)

    def start(self) -> None:
        self.process.start()
        wait_for(
            f"GET {self.v2}",
            lambda: requests.get(self.v2, timeout=2).status_code == 200,
            START_TIMEOUT,
            check=self.process.check_alive,
        )

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = requests.post(f"{self.v2}{path}", json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def running_actions(self) -> int:
        response = requests.get(f"{self.v2}/action_executions", params={"limit": 1000}, timeout=10)
        response.raise_for_status()
        return sum(1 for a in response.json()["action_executions"] if a["state"] == "RUNNING")

    def terminate_and_time(self) -> tuple[float, int]:
        """SIGTERM, then the seconds until the process ended and its exit code."""
        popen = self.process.popen
        assert popen is not None
        started = time.monotonic()
        popen.send_signal(signal.SIGTERM)
        try:
            code = popen.wait(timeout=GRACE + 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"no exit 30 s after the grace\n{self.process.tail()}") from None
        return time.monotonic() - started, code

    def database(self) -> sa.Engine:
        return sa.create_engine(f"sqlite:///{self.workdir / 'data' / 'mistral.sqlite'}")


@pytest.fixture
def server(tmp_path: pathlib.Path) -> Iterator[Embedded]:
    embedded = Embedded(tmp_path)
    embedded.migrate()
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.process.kill()


def _start_executions(server: Embedded, delay: float) -> list[str]:
    response = requests.post(
        f"{server.v2}/workflows", data=SLOW_ECHO, headers={"Content-Type": "text/plain"}, timeout=30
    )
    assert response.status_code == 201, response.text
    return [
        server.post(
            "/executions",
            {"workflow_name": "it_slow_echo", "input": json.dumps({"n": f"n{i}", "delay": delay})},
        )["id"]
        for i in range(COUNT)
    ]


def _wait_all_running(server: Embedded) -> None:
    wait_for(
        f"{COUNT} running actions",
        lambda: server.running_actions() >= COUNT,
        START_TIMEOUT,
        interval=0.05,
        check=server.process.check_alive,
    )
    # The engine marks an action RUNNING before it sends it: give the executor a moment to take it.
    time.sleep(0.5)


def _action_rows(server: Embedded, ex_ids: list[str]) -> dict[str, list[tuple[str, Any]]]:
    """Per workflow execution: (state, output) of each of its action executions."""
    engine = server.database()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT t.workflow_execution_id, a.state, a.output FROM action_executions_v2 a "
                    "JOIN task_executions_v2 t ON a.task_execution_id = t.id"
                )
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[tuple[str, Any]]] = {ex_id: [] for ex_id in ex_ids}
    for wf_ex_id, state, output in rows:
        found[wf_ex_id].append((state, json.loads(output) if isinstance(output, str) else output))
    return found


def test_sigterm_delivers_every_finished_result_and_exits_in_time(server: Embedded) -> None:
    ex_ids = _start_executions(server, delay=3)
    _wait_all_running(server)
    elapsed, code = server.terminate_and_time()
    print(f"shutdown with {COUNT} actions finishing inside the grace: {elapsed:.2f} s")
    assert code == 0, server.process.tail()
    assert elapsed < GRACE + EXIT_MARGIN, server.process.tail()
    # Every result was applied before the exit, each exactly once.
    for ex_id, actions in _action_rows(server, ex_ids).items():
        assert len(actions) == 1, (ex_id, actions)
        assert actions[0][0] == "SUCCESS", (ex_id, actions, server.process.tail())
        assert actions[0][1] == {"result": f"n{ex_ids.index(ex_id)}"}
    # And the restarted server finishes every execution.
    server.start()
    client_states = wait_for(
        f"{COUNT} executions to finish",
        lambda: _finished_states(server, ex_ids),
        START_TIMEOUT,
        check=server.process.check_alive,
    )
    assert set(client_states.values()) == {"SUCCESS"}, client_states
    assert all(len(a) == 1 for a in _action_rows(server, ex_ids).values())


def _finished_states(server: Embedded, ex_ids: list[str]) -> dict[str, str] | None:
    states = {}
    for ex_id in ex_ids:
        state = requests.get(f"{server.v2}/executions/{ex_id}", timeout=10).json()["state"]
        if state not in ("SUCCESS", "ERROR", "CANCELLED"):
            return None
        states[ex_id] = state
    return states


def test_sigterm_exits_in_time_when_actions_outlast_the_grace(server: Embedded) -> None:
    _start_executions(server, delay=60)
    _wait_all_running(server)
    elapsed, code = server.terminate_and_time()
    print(f"shutdown with {COUNT} actions outlasting the grace: {elapsed:.2f} s")
    assert code == 0, server.process.tail()
    assert GRACE - 0.5 <= elapsed < GRACE + EXIT_MARGIN, server.process.tail()
    assert server.process.logged("still running after the shutdown grace"), server.process.tail()


def test_a_second_sigterm_exits_at_once(server: Embedded) -> None:
    _start_executions(server, delay=60)
    _wait_all_running(server)
    popen = server.process.popen
    assert popen is not None
    popen.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    started = time.monotonic()
    popen.send_signal(signal.SIGTERM)
    code = popen.wait(timeout=GRACE + 30)
    elapsed = time.monotonic() - started
    print(f"exit after the second SIGTERM: {elapsed:.2f} s")
    assert code != 0
    assert elapsed < 1.0, server.process.tail()
