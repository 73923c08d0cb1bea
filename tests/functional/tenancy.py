"""Projects on one server with authentication on: the ``tenants`` fixture and the ``Tenant`` client.

Identity is a real Keystone (``python3 tools/keystone/start.py`` starts one) and the API server under test
runs the real keystonemiddleware against it: every ``Tenant`` holds a real token of a user with the
asked roles in a real project. Where it is: ``MISTRAL_TEST_KEYSTONE_URL`` (``http://127.0.0.1:5000/v3``)
and ``MISTRAL_TEST_KEYSTONE_PASSWORD`` (``mistral-test``, the password of every test user).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from mistral import config
from mistral.actions import registry
from mistral.api import app as api_app
from mistral.api import policy
from mistral.api import server as api_server
from tests.conftest import service_missing
from tests.polling import wait_rest_execution

if TYPE_CHECKING:
    from tests.functional.conftest import Server

KEYSTONE_URL = os.environ.get("MISTRAL_TEST_KEYSTONE_URL", "http://127.0.0.1:5000/v3")
KEYSTONE_PASSWORD = os.environ.get("MISTRAL_TEST_KEYSTONE_PASSWORD", "mistral-test")
#: The two projects the tool creates, each with a ``member`` user; ``mistral-a`` also has an admin.
PROJECT_A, PROJECT_B = "mistral-a", "mistral-b"
#: The cloud admin ``keystone-manage bootstrap`` made: user and project ``admin``, role ``admin``.
ADMIN_PROJECT = "admin"
#: The service's own user (tools/keystone/seed.py): ``[keystone_authtoken]`` of the servers under test.
SERVICE_USER, SERVICE_PROJECT = "mistral", "service"

TEXT = {"Content-Type": "text/plain"}
#: A workflow of mistral-extra's OpenStack actions, which call Keystone with the token and catalog given.
KEYSTONE_WHOAMI = """
whoami:
  input:
    - user_id
  output:
    projects: <% $.projects %>
    user: <% $.user %>
  tasks:
    my_projects:
      action: keystone.projects_list user=<% $.user_id %>
      publish:
        projects: <% task().result.name %>
      on-success: me
    me:
      action: keystone.users_get user=<% $.user_id %>
      publish:
        user: <% task().result.name %>
"""

WORKFLOW = """
version: '2.0'
{name}:
  tasks:
    hello:
      action: std.echo output="hello from {name}"
      publish:
        said: <% task().result %>
"""


def password_session(username: str, project: str) -> ks_session.Session:
    auth = v3.Password(
        auth_url=KEYSTONE_URL,
        username=username,
        password=KEYSTONE_PASSWORD,
        project_name=project,
        user_domain_id="default",
        project_domain_id="default",
    )
    return ks_session.Session(auth=auth)


class Identities:
    """Users in Keystone, found or made on demand: one per (project, roles), one token each per session."""

    def __init__(self) -> None:
        self._admin: ks_session.Session | None = None
        self._tokens: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def admin(self) -> ks_session.Session:
        if self._admin is None:
            admin = password_session("admin", ADMIN_PROJECT)
            admin.get_token()
            self._admin = admin
        return self._admin

    def token(self, project: str, roles: tuple[str, ...]) -> tuple[str, str]:
        """(token, project id) of a user holding exactly ``roles`` in ``project``."""
        key = (project, ",".join(roles))
        with self._lock:
            if key not in self._tokens:
                if project != ADMIN_PROJECT:
                    self.create_user(project, roles)
                sess = password_session(self.username(project, roles), project)
                self._tokens[key] = (sess.get_token(), sess.get_project_id())
            return self._tokens[key]

    @staticmethod
    def username(project: str, roles: tuple[str, ...]) -> str:
        """The user holding ``roles`` in ``project`` (as tools/keystone/seed.py names them)."""
        return "admin" if project == ADMIN_PROJECT else f"{project}-{'-'.join(roles)}"

    def create_user(self, project: str, roles: tuple[str, ...]) -> None:
        """The user holding ``roles`` in ``project``; it, the project and the roles are created as needed."""
        username = self.username(project, roles)
        project_id = self._find_or_create("projects", project, domain_id="default")
        user_id = self._find_or_create(
            "users", username, domain_id="default", password=KEYSTONE_PASSWORD, default_project_id=project_id
        )
        for role in roles:
            role_id = self._find_or_create("roles", role)
            self.admin.put(f"{KEYSTONE_URL}/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def _find_or_create(self, kind: str, name: str, **fields: str) -> str:
        found = self._find(kind, name)
        if found:
            return found
        body = {kind[:-1]: {"name": name, **fields}}
        # NOTE: the test processes (pytest -n) share this Keystone: another may create it first.
        created = self.admin.post(f"{KEYSTONE_URL}/{kind}", json=body, raise_exc=False)
        if created.status_code == 409:
            again = self._find(kind, name)
            if again:
                return again
        created.raise_for_status()
        return created.json()[kind[:-1]]["id"]

    def _find(self, kind: str, name: str) -> str | None:
        found = self.admin.get(f"{KEYSTONE_URL}/{kind}", params={"name": name}).json()[kind]
        return found[0]["id"] if found else None


IDENTITIES = Identities()


class Tenant:
    """Requests to the server as a Keystone user with ``roles`` (comma list, ``member`` when empty) in
    ``project`` (a Keystone project name, created when missing): ``Tenant(url, PROJECT_A, "admin")`` is
    an admin of project A."""

    def __init__(self, url: str, project: str, roles: str = "") -> None:
        self.url, self.project = url, project
        self.roles = tuple(sorted(r.strip() for r in (roles or "member").split(",") if r.strip()))
        #: ``token`` is real; the server records ``project_id`` (Keystone's id) on this tenant's rows.
        self.token, self.project_id = IDENTITIES.token(project, self.roles)
        #: Who to log in as (password ``KEYSTONE_PASSWORD``), for clients that authenticate themselves.
        self.username = IDENTITIES.username(project, self.roles)

    def project_admin(self) -> Tenant:
        """An admin of this tenant's project: by Mistral 23's default policies only an admin
        creates public (``scope: public``) objects."""
        return Tenant(self.url, self.project, "admin")

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
        return wait_rest_execution(self, ex_id, "SUCCESS", "ERROR", "CANCELLED", timeout=timeout)


@pytest.fixture(scope="session")
def keystone() -> str:
    """The Keystone URL, once it has answered with an admin token."""
    try:
        IDENTITIES.admin  # noqa: B018 - authenticates
    except ks_exceptions.ConnectFailure as error:
        service_missing(f"Keystone at {KEYSTONE_URL} (start it: python3 tools/keystone/start.py)", error)
    return KEYSTONE_URL


def keystone_authtoken(url: str) -> dict[str, Any]:
    """``[keystone_authtoken]`` as a deployment would write it: the service's own user (``mistral`` in
    project ``service``, as devstack makes it) validates the callers' tokens and holds the trusts of
    cron and event triggers."""
    return {
        "www_authenticate_uri": url,
        "auth_url": url,
        "auth_type": "password",
        "username": SERVICE_USER,
        "password": KEYSTONE_PASSWORD,
        "project_name": SERVICE_PROJECT,
        "user_domain_id": "default",
        "project_domain_id": "default",
    }


@contextlib.contextmanager
def keystone_api_server(keystone: str, **extra: Any) -> Iterator[str]:
    """An API server with authentication on through keystonemiddleware, over the engine and executor
    the ``server`` fixture runs; ``extra`` adds ``[keystone_authtoken]`` settings (``token_cache_time``)."""
    from keystoneauth1 import loading
    from keystonemiddleware import auth_token

    from mistral.services import trusts

    group = "keystone_authtoken"
    # NOTE: keystonemiddleware registers these itself when the app is built; overrides need them first.
    for group, opts in auth_token.list_opts():
        config.CONF.register_opts(opts, group=group)
    config.CONF.register_opts(loading.get_auth_plugin_conf_options("password"), group=group)
    settings = {**keystone_authtoken(keystone), **extra}
    for name, value in settings.items():
        config.CONF.set_override(name, value, group=group)
    config.CONF.set_override("auth_enable", True, group="pecan")
    policy.reset()
    trusts.reset()
    httpd = api_server.make_server(api_app.setup_app(sync_actions=False), host="127.0.0.1", port=0)
    httpd.prepare()
    thread = threading.Thread(target=httpd.serve, daemon=True)
    thread.start()
    host, port = httpd.bind_addr[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        httpd.stop()
        config.CONF.clear_override("auth_enable", group="pecan")
        for name in settings:
            config.CONF.clear_override(name, group=group)
        policy.reset()
        trusts.reset()


@pytest.fixture(scope="module")
def auth_url(server: Server, keystone: str) -> Iterator[str]:
    """A second API server with authentication on through keystonemiddleware."""
    with keystone_api_server(keystone) as url:
        yield url


@pytest.fixture
def tenants(auth_url: str, db: str) -> tuple[Tenant, Tenant, Tenant]:
    """The members of projects A and B, and the cloud admin, on empty tables."""
    from mistral.services import actions as action_service

    action_service.sync_system_actions()
    return Tenant(auth_url, PROJECT_A), Tenant(auth_url, PROJECT_B), Tenant(auth_url, ADMIN_PROJECT, "admin")


@pytest.fixture(scope="module")
def openstack_actions() -> Iterator[None]:
    """mistral-extra's OpenStack actions on for a module (the suite keeps them off: tests/conftest.py)."""
    config.CONF.set_override("load_action_generators", True, group="legacy_action_provider")
    registry.reset_cache()
    yield
    config.CONF.clear_override("load_action_generators", group="legacy_action_provider")
    registry.reset_cache()
