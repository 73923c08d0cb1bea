"""The REST calls of an external worker: claim, renew or give back a lease, report a result.

Plain HTTP with ``requests``: a worker needs none of the service's own packages, and may run
on any host that reaches the API. With authentication on, it sends a Keystone token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import requests

#: The header carrying the claim's token with heartbeats and results.
LEASE_HEADER = "X-Mistral-Lease-Token"


class WorkerError(Exception):
    """The API answered something a worker cannot go on from (bad request, auth, server error)."""


@dataclasses.dataclass(frozen=True)
class WorkItem:
    """A claimed item, as the claim answered it."""

    id: str
    action_execution_id: str
    workflow_execution_id: str | None
    task_name: str | None
    queue: str
    tags: list[str]
    input: Any
    attempt: int
    lease_expires_at: str | None
    lease_token: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> WorkItem:
        values: dict[str, Any] = {f.name: body.get(f.name) for f in dataclasses.fields(cls)}
        return cls(**values)


class Client:
    """``url`` is the API's v2 root (``http://host:8989/v2``); ``token`` a Keystone token, if auth is on."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["X-Auth-Token"] = token

    def _send(self, method: str, path: str, *, ok: Sequence[int], conflict_ok: bool = False,
              extra_time: float = 0.0, **kwargs: Any) -> requests.Response | None:  # fmt: skip
        answer = self.session.request(
            method, f"{self.url}{path}", timeout=self.timeout + extra_time, **kwargs
        )
        if answer.status_code in ok:
            return answer
        if conflict_ok and answer.status_code == 409:
            return None
        raise WorkerError(f"{method} {path} answered {answer.status_code}: {answer.text[:500]}")

    def claim(self, queue: str, tags: Sequence[str] = (), *, max: int = 1, lease: float = 30.0,
              wait: float = 20.0, worker: str | None = None) -> list[WorkItem]:  # fmt: skip
        """Up to ``max`` items, waiting up to ``wait`` seconds for some (an empty list: none came)."""
        body = {
            "queue": queue,
            "tags": list(tags),
            "max": max,
            "lease": lease,
            "wait": wait,
            "worker": worker,
        }
        answer = self._send("POST", "/work_items/claim", ok=(200,), json=body, extra_time=wait)
        assert answer is not None
        return [WorkItem.from_json(item) for item in answer.json()["work_items"]]

    def heartbeat(self, item: WorkItem, lease: float) -> bool:
        """Renew the lease; False once it is no longer ours (expired and claimed again, or cancelled)."""
        answer = self._send(
            "PUT", f"/work_items/{item.id}/lease", ok=(200,), conflict_ok=True, json={"lease": lease},
            headers=self._lease(item),
        )  # fmt: skip
        return answer is not None

    def release(self, item: WorkItem) -> bool:
        """Give the item back unrun, for another worker to take at once."""
        answer = self._send(
            "DELETE", f"/work_items/{item.id}/lease", ok=(204,), conflict_ok=True, headers=self._lease(item)
        )
        return answer is not None

    def succeed(self, item: WorkItem, output: Any) -> bool:
        """Report the result; False when it was refused (another worker's claim now counts, or cancelled)."""
        return self._report(item, "SUCCESS", output)

    def fail(self, item: WorkItem, error: Any) -> bool:
        return self._report(item, "ERROR", error)

    def _report(self, item: WorkItem, state: str, output: Any) -> bool:
        # NOTE: the action execution's output is a JSON object; anything else is wrapped.
        body = {"state": state, "output": output if isinstance(output, dict) else {"result": output}}
        answer = self._send(
            "PUT", f"/action_executions/{item.action_execution_id}", ok=(200,), conflict_ok=True, json=body,
            headers=self._lease(item),
        )  # fmt: skip
        return answer is not None

    @staticmethod
    def _lease(item: WorkItem) -> dict[str, str]:
        return {LEASE_HEADER: item.lease_token} if item.lease_token else {}
