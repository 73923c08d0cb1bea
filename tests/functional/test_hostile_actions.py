"""Hostile action input through the real python-mistralclient: refused with an error naming the option.

Every refusal ends the action (and its task) in ERROR; the executor keeps serving.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mistral.config import CONF
from tests.functional.conftest import Server
from tests.functional.runs import start, wait
from tests.unit.actions.ssh_server import PASSWORD, FakeSSHServer

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture(autouse=True)
def _clean_options() -> Iterator[None]:
    yield
    CONF.clear_override("default_timeout", group="action_http")
    CONF.clear_override("timeout", group="action_javascript")


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        self.send_response(302)
        self.send_header("Location", METADATA)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def redirect_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    listener.close()


@pytest.fixture
def sshd() -> Iterator[FakeSSHServer]:
    server = FakeSSHServer()
    yield server
    server.close()


def _run_action(client: Any, name: str, params: dict[str, Any]) -> tuple[str, str]:
    ran = client.action_executions.create(name, params)
    return ran.state, json.loads(ran.output)["result"]


def test_http_redirect_to_the_metadata_service(client: Any, redirect_url: str) -> None:
    state, error = _run_action(client, "std.http", {"url": redirect_url})
    assert state == "ERROR"
    assert "169.254.169.254, in 169.254.0.0/16 of [action_http] denied_networks" in error


def test_http_hanging_server_times_out(client: Any, silent_url: str) -> None:
    CONF.set_override("default_timeout", 0.5, group="action_http")
    started = time.monotonic()
    state, error = _run_action(client, "std.http", {"url": silent_url})
    assert state == "ERROR"
    assert "[action_http] default_timeout of 0.5 s" in error
    assert time.monotonic() - started < 10


def test_ssh_unknown_host_fails_the_task(api: Server, sshd: FakeSSHServer) -> None:
    definition = f"""
version: '2.0'
wf:
  tasks:
    remote:
      action: std.ssh cmd="echo hello" host="{sshd.address}" username=alice password="{PASSWORD}"
"""
    ex = wait(api, start(api, definition), "ERROR")
    (task,) = api.request("GET", f"/executions/{ex['id']}/tasks").json()["tasks"]
    assert task["state"] == "ERROR"
    assert f"host key of [{sshd.address.replace(':', ']:')} is not known" in task["state_info"]
    assert "[action_ssh] accept_unknown_hosts = true" in task["state_info"]
    assert sshd.executed == []


def test_ssh_proxy_command_is_refused(client: Any, tmp_path: Any) -> None:
    marker = tmp_path / "ran"
    params = {"cmd": "true", "host": "10.0.0.1", "username": "u", "proxy_command": f"touch {marker}"}
    state, error = _run_action(client, "std.ssh_proxied", params)
    assert state == "ERROR"
    assert "[action_ssh] allow_proxy_command = true" in error
    assert not marker.exists()


def test_ssh_key_file_outside_the_key_dir(client: Any) -> None:
    params = {"cmd": "true", "host": "10.0.0.1", "username": "u", "private_key_filename": "/etc/shadow"}
    state, error = _run_action(client, "std.ssh", params)
    assert state == "ERROR"
    assert "[action_ssh] private_key_dir is not set" in error


def test_javascript_endless_loop_then_the_executor_still_works(client: Any) -> None:
    CONF.set_override("timeout", 1.0, group="action_javascript")
    state, error = _run_action(client, "std.javascript", {"script": "while (true) {}"})
    assert state == "ERROR"
    assert "[action_javascript] timeout of 1.0 s" in error
    assert _run_action(client, "std.echo", {"output": "still here"}) == ("SUCCESS", "still here")
