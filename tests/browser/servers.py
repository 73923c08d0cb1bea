"""The servers the browser tests watch: real ``mistral-server`` processes, and their REST API.

The server is the real command (``--server all`` on its own SQLite file), started the way the
integration tests start theirs (tests/integration/processes.py).
"""

from __future__ import annotations

import contextlib
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import requests

from tests.integration import processes
from tests.polling import wait_for, wait_rest_execution

START_TIMEOUT = 60.0
#: The servers running now, whose logs a failing test shows.
RUNNING: list[processes.Process] = []


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


class Rest:
    """The public REST API of one server, as the tests drive it besides the console."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.headers = {"X-Auth-Token": token} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/v2{path}", headers=headers, timeout=30, **kwargs)

    def start(self, workflow: str, **wf_input: Any) -> dict[str, Any]:
        resp = self.request("POST", "/executions", json={"workflow_name": workflow, "input": wf_input})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def wait(self, ex_id: str, *wanted: str, timeout: float = 30) -> dict[str, Any]:
        return wait_rest_execution(self, ex_id, *wanted, timeout=timeout)

    def tasks(self, ex_id: str) -> dict[str, dict[str, Any]]:
        resp = self.request("GET", f"/executions/{ex_id}/tasks")
        assert resp.status_code == 200, resp.text
        return {task["name"]: task for task in resp.json()["tasks"]}


@contextlib.contextmanager
def mistral_server(
    name: str, workdir: pathlib.Path, logs: pathlib.Path, **sections: dict[str, Any]
) -> Iterator[str]:
    """``mistral-server --server all`` with ``sections`` added to its config file, logging to
    ``logs/<name>.log``; yields its URL."""
    port = processes.free_port()
    config = processes.write_config(
        workdir / "mistral.conf",
        {
            "DEFAULT": {"data_dir": workdir / "data"},
            "api": {"host": "127.0.0.1", "port": port},
            # NOTE: mistral-extra's ~1200 OpenStack actions take seconds to load at every start.
            "legacy_action_provider": {"load_action_generators": "false"},
            **sections,
        },
    )
    processes.migrate(config)
    logs.mkdir(parents=True, exist_ok=True)
    argv = [processes.MISTRAL_SERVER, "--config-file", str(config), "--server", "all"]
    log = logs / f"{name}.log"
    log.unlink(missing_ok=True)  # this run's log only
    server = processes.Process(name, argv, log, workdir)
    server.start()
    RUNNING.append(server)
    url = f"http://127.0.0.1:{port}"
    try:
        # NOTE: any status means it listens (a 401 of the server behind Keystone is falsy).
        wait_for(f"GET {url}/v2", lambda: requests.get(f"{url}/v2", timeout=2).status_code,
                 START_TIMEOUT, check=server.check_alive)  # fmt: skip
        yield url
    finally:
        processes.stop_all([server])
        RUNNING.remove(server)
