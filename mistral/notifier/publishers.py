"""Sending one event to one publisher: an HTTP POST for ``webhook``, nothing for ``noop``.

NOTE: a webhook URL is user input, so the POST goes through std.http's guard: the
same [action_http] denied_networks (the cloud metadata service, link-local) and
response size cap, checked on the address actually connected to. OpenStack
Mistral likewise checks webhooks against its std.http egress policy.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests

from mistral.actions import http_guard

#: The header carrying the event's id: the same on every retry, so a receiver can drop a repeat.
EVENT_ID_HEADER = "X-Mistral-Event-Id"


class DeliveryError(Exception):
    """The receiver did not take the event (it is retried)."""


def publish(publisher: Mapping[str, Any], event_id: str, payload: Mapping[str, Any], timeout: float) -> None:
    """Deliver ``payload``; returns once the receiver took it, raises ``DeliveryError`` otherwise."""
    kind = publisher.get("type")
    if kind == "noop":
        return
    if kind != "webhook":
        raise DeliveryError(f"unknown publisher type {kind!r}")
    _post(publisher, event_id, payload, timeout)


def _post(publisher: Mapping[str, Any], event_id: str, payload: Mapping[str, Any], timeout: float) -> None:
    headers = {"Content-Type": "application/json", **(publisher.get("headers") or {})}
    headers[EVENT_ID_HEADER] = event_id
    try:
        url, body = publisher["url"], json.dumps(payload)
        with http_guard.session() as session:
            resp = session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except (requests.RequestException, http_guard.RefusedError) as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
    # NOTE: Mistral's webhook counts 200 and 201 as taken; any 2xx is taken here (202, 204 too).
    if not 200 <= resp.status_code < 300:
        raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:200]}")


def describe(publisher: Mapping[str, Any]) -> str:
    """The publisher for a log line: its type and URL without query or credentials (headers never)."""
    url = publisher.get("url")
    if not isinstance(url, str):
        return str(publisher.get("type"))
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{publisher.get('type')} {parts.scheme}://{host}{parts.path}"
