"""Projects on one server with authentication on: the ``tenants`` fixture and the ``Tenant`` client.

No Keystone is contacted: the keystonemiddleware wrapper is replaced by ``FakeKeystone``, which
trusts tokens of the form ``test:<project>[:<role,role>]`` and sets the identity headers that
keystonemiddleware would set, after dropping any the caller sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from mistral import config
from mistral.api import app as api_app
from mistral.api import policy
from mistral.api import server as api_server

if TYPE_CHECKING:
    from tests.functional.conftest import Server

TEXT = {"Content-Type": "text/plain"}
#: What keystonemiddleware sets and so never takes from the caller.
IDENTITY_HEADERS = ("HTTP_X_IDENTITY_STATUS", "HTTP_X_PROJECT_ID", "HTTP_X_USER_ID", "HTTP_X_ROLES")

WORKFLOW = """
version: '2.0'
{name}:
  tasks:
    hello:
      action: std.echo output="hello from {name}"
      publish:
        said: <% task().result %>
"""


class FakeKeystone:
    """keystonemiddleware with ``delay_auth_decision=False``, minus Keystone."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for key in IDENTITY_HEADERS:
            environ.pop(key, None)
        kind, _, rest = environ.get("HTTP_X_AUTH_TOKEN", "").partition(":")
        project, _, roles = rest.partition(":")
        if kind != "test" or not project:
            body = json.dumps(
                {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made "
                           "requires authentication."}}
            ).encode()  # fmt: skip
            start_response(
                "401 Unauthorized",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                 ("WWW-Authenticate", "Keystone uri='http://keystone.invalid'")],
            )  # fmt: skip
            return [body]
        environ.update(
            HTTP_X_IDENTITY_STATUS="Confirmed",
            HTTP_X_PROJECT_ID=project,
            HTTP_X_USER_ID=f"user-of-{project}",
            HTTP_X_ROLES=roles or "member",
        )
        return self.app(environ, start_response)


class Tenant:
    """Requests to the server as one project's user."""

    def __init__(self, url: str, project: str, roles: str = "") -> None:
        self.url, self.project = url, project
        #: The project id the server records on this tenant's rows.
        self.project_id = project
        self.token = f"test:{project}:{roles}" if roles else f"test:{project}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/v2{path}", headers=headers, timeout=30, **kwargs)

    def create_workflow(self, name: str, scope: str = "private") -> dict[str, Any]:
        resp = self.request(
            "POST", f"/workflows?scope={scope}", data=WORKFLOW.format(name=name), headers=TEXT
        )
        assert resp.status_code == 201, resp.text
        return resp.json()["workflows"][0]

    def start(self, **body: Any) -> requests.Response:
        return self.request("POST", "/executions", json=body)

    def names(self, plural: str, **params: str) -> list[str]:
        resp = self.request("GET", f"/{plural}", params=params)
        assert resp.status_code == 200, resp.text
        key = "workflow_name" if plural == "executions" else "name"
        return sorted(item[key] for item in resp.json()[plural])

    def wait_done(self, ex_id: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.request("GET", f"/executions/{ex_id}").json()
            if body.get("state") in ("SUCCESS", "ERROR", "CANCELLED"):
                return body
            time.sleep(0.05)
        raise AssertionError(f"execution {ex_id} did not finish: {body}")


@pytest.fixture(scope="module")
def auth_url(server: Server) -> Iterator[str]:
    """A second API server with authentication on, over the engine and executor ``server`` runs."""
    patch = pytest.MonkeyPatch()
    patch.setattr(api_app, "_with_keystone", FakeKeystone)
    config.CONF.set_override("auth_enable", True, group="pecan")
    policy.reset()
    httpd = api_server.make_server(api_app.setup_app(sync_actions=False), host="127.0.0.1", port=0)
    httpd.prepare()
    thread = threading.Thread(target=httpd.serve, daemon=True)
    thread.start()
    host, port = httpd.bind_addr[:2]
    yield f"http://{host}:{port}"
    httpd.stop()
    config.CONF.clear_override("auth_enable", group="pecan")
    policy.reset()
    patch.undo()


@pytest.fixture
def tenants(auth_url: str, db: str) -> tuple[Tenant, Tenant, Tenant]:
    """Projects A and B, and an admin of a third project, on empty tables."""
    from mistral.services import actions as action_service

    action_service.sync_system_actions()
    return Tenant(auth_url, "proj-a"), Tenant(auth_url, "proj-b"), Tenant(auth_url, "proj-admin", "admin")
