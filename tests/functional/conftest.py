"""A real API server on a free port, the real python-mistralclient and its ``mistral`` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mistralclient.api import client as mistral_client

from mistral import config, launcher
from mistral.api import app as api_app
from mistral.api import server as api_server
from tests.conftest import use_database
from tests.functional.hooks import Hooks

MISTRAL_CLI = os.path.join(os.path.dirname(sys.executable), "mistral")


class Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.v2 = f"{url}/v2"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.v2}{path}", timeout=30, **kwargs)


# NOTE: package scope stops the engine's background loops before other packages' tests run.
@pytest.fixture(scope="package")
def server(sqlite_url: str) -> Iterator[Server]:
    """The embedded service: API, engine and executor in this process, on the in-process transport."""
    use_database(sqlite_url)
    # NOTE: the launcher's own API server takes a free port too, so that test runs side by side
    # (and a server on 8989) do not collide; the tests talk to the one started below.
    config.CONF.set_override("port", 0, group="api")
    services = launcher.Services(["api", "engine", "executor", "notifier"])
    services.start()
    httpd = api_server.make_server(api_app.setup_app(), host="127.0.0.1", port=0)
    httpd.prepare()
    thread = threading.Thread(target=httpd.serve, daemon=True)
    thread.start()
    host, port = httpd.bind_addr[:2]
    yield Server(f"http://{host}:{port}")
    httpd.stop()
    services.stop()
    config.CONF.clear_override("port", group="api")


@pytest.fixture
def api(server: Server, db: str) -> Server:
    """The server with empty definition tables (the system actions are re-registered)."""
    from mistral.services import actions as action_service

    action_service.sync_system_actions()
    return server


@pytest.fixture
def client(api: Server) -> Any:
    return mistral_client.client(mistral_url=api.v2)


@pytest.fixture
def cli(api: Server, tmp_path: Any) -> Any:
    """Run the real ``mistral`` command against the server; returns (exit code, stdout, stderr)."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        result = subprocess.run(
            [MISTRAL_CLI, "--os-mistral-url", api.v2, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"mistral {' '.join(args)} failed: {result.stderr}{result.stdout}")
        return result

    return run


def cli_json(result: subprocess.CompletedProcess) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    """A local HTTP server counting the calls std.http actions make to it."""
    server = Hooks()
    server.start()
    yield server
    server.stop()


# The two-project fixtures (``auth_url``, ``tenants``) for every functional test module.
from tests.functional.tenancy import auth_url, keystone, openstack_actions, tenants  # noqa: E402, F401
