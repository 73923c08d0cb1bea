"""This service in a Keystone catalog, as Mistral's devstack plugin puts it there (stdlib only).

The service user ``mistral`` (project ``service``, roles ``admin`` and ``service``) validates the callers'
tokens for keystonemiddleware; the service ``mistral`` of type ``workflowv2`` has a public, internal and
admin endpoint in one region, all on the API's ``/v2`` URL. Every step looks the object up first, so a
second run changes nothing but an endpoint URL that moved (a new port of the server under test).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "keystone"))

import seed  # noqa: E402 - tools/keystone is not a package

SERVICE_TYPE = "workflowv2"
SERVICE_NAME = "mistral"
SERVICE_USER = "mistral"
SERVICE_PROJECT = "service"
INTERFACES = ("public", "internal", "admin")


def register_service_user(keystone: seed.Keystone, password: str) -> None:
    """The user keystonemiddleware authenticates as (``[keystone_authtoken] username``), with
    ``password`` even when a user of that name was made before with another one."""
    for role in ("admin", "service"):
        keystone.grant(SERVICE_USER, SERVICE_PROJECT, role, password)
    if log_in(keystone.url, SERVICE_USER, SERVICE_PROJECT, password) is None:
        user_id = keystone.find_or_create("users", SERVICE_USER, {})
        keystone.call("PATCH", f"/users/{user_id}", {"user": {"password": password}})


def log_in(url: str, user: str, project: str, password: str) -> str | None:
    """A token of ``user`` in ``project`` (both in the Default domain); None when Keystone says 401."""
    scope = {"project": {"name": project, "domain": {"name": "Default"}}}
    identity = {"user": {"name": user, "domain": {"name": "Default"}, "password": password}}
    body = {"auth": {"identity": {"methods": ["password"], "password": identity}, "scope": scope}}
    request = urllib.request.Request(f"{url}/auth/tokens", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.headers["X-Subject-Token"]
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return None
        raise


def register_endpoints(keystone: seed.Keystone, url: str, region: str) -> str:
    """The ``workflowv2`` service with its three endpoints at ``url`` in ``region``; the service id."""
    keystone.call("GET", f"/regions/{urllib.parse.quote(region)}")  # bootstrap made it; 404 raises
    found = keystone.call("GET", f"/services?type={SERVICE_TYPE}")["services"]
    if found:
        service_id = found[0]["id"]
    else:
        body = {"service": {"type": SERVICE_TYPE, "name": SERVICE_NAME, "description": "Workflow Service v2"}}
        service_id = keystone.call("POST", "/services", body)["service"]["id"]
    endpoints = keystone.call("GET", f"/endpoints?service_id={service_id}&region_id={region}")["endpoints"]
    for interface in INTERFACES:
        mine = [e for e in endpoints if e["interface"] == interface]
        if not mine:
            body = {"service_id": service_id, "interface": interface, "region_id": region, "url": url}
            keystone.call("POST", "/endpoints", {"endpoint": body})
            continue
        for extra in mine[1:]:  # NOTE: two endpoints of one interface make the catalog ambiguous
            keystone.call("DELETE", f"/endpoints/{extra['id']}")
        if mine[0]["url"] != url:
            keystone.call("PATCH", f"/endpoints/{mine[0]['id']}", {"endpoint": {"url": url}})
    return service_id
