"""The test identities in a running Keystone, through its v3 REST API (stdlib only).

Every step looks the object up by name first, so running it again changes nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

#: (user, project, role): a member in each of two projects, an admin of project A, and the service's
#: own user ``mistral`` in project ``service`` with the roles devstack gives a service user (``admin`` and
#: ``service``): the servers under test validate tokens with it and hold the Keystone trusts of cron and
#: event triggers for it. The bootstrap admin (user ``admin``, project ``admin``, role ``admin``) is the
#: cloud admin.
IDENTITIES = (
    ("mistral-a-member", "mistral-a", "member"),
    ("mistral-b-member", "mistral-b", "member"),
    ("mistral-a-admin", "mistral-a", "admin"),
    ("mistral", "service", "admin"),
    ("mistral", "service", "service"),
)


class Keystone:
    """Just enough of the identity API to find or create projects, users and role assignments."""

    def __init__(self, url: str, admin_password: str) -> None:
        self.url = url.rstrip("/")
        self.token = ""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": "admin", "domain": {"id": "default"}, "password": admin_password}
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        with self._open("POST", "/auth/tokens", body) as resp:
            self.token = resp.headers["X-Subject-Token"]

    def _open(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-Auth-Token", self.token)
        return urllib.request.urlopen(req, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with self._open(method, path, body) as resp:
            text = resp.read()
        return json.loads(text) if text else {}

    def find_or_create(self, kind: str, name: str, extra: dict[str, Any]) -> str:
        """The id of the ``kind`` (projects, users, roles) called ``name``, created when missing."""
        found = self.call("GET", f"/{kind}?name={urllib.request.quote(name)}")[kind]
        if found:
            return found[0]["id"]
        return self.call("POST", f"/{kind}", {kind[:-1]: {"name": name, **extra}})[kind[:-1]]["id"]

    def grant(self, user: str, project: str, role: str, password: str) -> None:
        """``user`` (with ``password``) holds ``role`` in ``project``; all three are created as needed."""
        project_id = self.find_or_create("projects", project, {"domain_id": "default"})
        user_id = self.find_or_create(
            "users", user, {"domain_id": "default", "password": password, "default_project_id": project_id}
        )
        role_id = self.find_or_create("roles", role, {})
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")


def seed(url: str, password: str) -> None:
    keystone = Keystone(url, password)
    for user, project, role in IDENTITIES:
        keystone.grant(user, project, role, password)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False
