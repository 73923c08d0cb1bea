"""External workers' use cases: claim work items (long-polling), renew or give back a lease, show items.

A claim long-polls by looking again every ``POLL_INTERVAL`` seconds, each look a short
read (a write transaction only when there is something to take), so a waiting worker
holds no transaction and, on SQLite, never the writer slot.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.exceptions import ConflictError, InputError
from mistral.metrics import series

#: Seconds between two looks of a waiting claim.
POLL_INTERVAL = 0.1
MAX_WAIT = 60.0
MAX_LEASE = 24 * 3600.0
MAX_ITEMS = 100
MAX_TAGS = 20
MAX_NAME = 255


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a worker asks for: up to ``max`` items of ``queue`` having every tag, for ``lease`` seconds."""

    queue: str
    tags: tuple[str, ...] = ()
    max: int = 1
    lease: float = 30.0
    wait: float = 0.0
    worker: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Claim:
        """The claim a request body asks for; anything malformed is an ``InputError`` naming it."""
        queue = body.get("queue")
        if not isinstance(queue, str) or not queue or len(queue) > MAX_NAME:
            raise InputError(f"'queue' must be a non-empty string of at most {MAX_NAME} characters")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise InputError(f"'tags' must be a list of at most {MAX_TAGS} strings")
        for tag in tags:
            if not isinstance(tag, str) or not tag or "," in tag or len(tag) > MAX_NAME:
                raise InputError(f"Each tag must be a non-empty string without commas, got {tag!r}")
        worker = body.get("worker")
        if worker is not None and (not isinstance(worker, str) or len(worker) > MAX_NAME):
            raise InputError(f"'worker' must be a string of at most {MAX_NAME} characters")
        return cls(
            queue,
            tuple(tags),
            int(_number(body, "max", 1, 1, MAX_ITEMS, whole=True)),
            _number(body, "lease", 30.0, 0.1, MAX_LEASE),
            _number(body, "wait", 0.0, 0.0, MAX_WAIT),
            worker,
        )


def _number(body: Mapping[str, Any], name: str, default: float, low: float, high: float, *,
            whole: bool = False) -> float:  # fmt: skip
    value = body.get(name, default)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (whole and not isinstance(value, int))
    ):
        kind = "a whole number" if whole else "a number"
        raise InputError(f"'{name}' must be {kind}, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"'{name}' must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def claim(request: Claim, *, may_wait: bool = True) -> list[Any]:
    """Take up to ``request.max`` items of the caller's project; wait up to ``request.wait`` for some.

    ``may_wait`` False: one look only (the server has no thread to spare for another waiter).
    """
    started = time.monotonic()
    taken = _claim(request, started + (request.wait if may_wait else 0.0))
    # NOTE (issue 13): the claim as this process served it, apart from what the HTTP path and
    # the worker's own machine add to what the worker sees; a long-poll's wait is in "empty"
    # when nothing came, in "taken" when items came while it waited.
    series.work_claims("taken" if taken else "empty").observe(time.monotonic() - started)
    return taken


def _claim(request: Claim, deadline: float) -> list[Any]:
    project_id = context.current().project_id
    first = True
    while True:
        now = utcnow()
        # NOTE: the first look claims at once (a busy queue: one transaction); later looks of a
        # waiting claim read first, and write only when there is something to take.
        if first or db_api.has_claimable_work(project_id, request.queue, list(request.tags), now):
            taken = db_api.run_with_retry(
                db_api.claim_work_items,
                project_id,
                request.queue,
                list(request.tags),
                limit=request.max,
                lease=request.lease,
                worker=request.worker,
                now=now,
            )
            if taken:
                return taken
        first = False
        left = deadline - time.monotonic()
        if left <= 0:
            return []
        time.sleep(min(POLL_INTERVAL, left))


def extend_lease(item_id: str, lease_token: str | None, lease: float) -> models.WorkItem:
    """Renew the lease (a heartbeat); a lease no longer held is a ``ConflictError``."""
    item = db_api.get_work_item(item_id)  # NOTE: scoped: another project's item is not found
    _check_mine(item)
    renewed = db_api.run_with_retry(db_api.extend_work_item_lease, item_id, lease_token, lease, utcnow())
    if renewed is None:
        raise ConflictError(_not_held(item_id, lease_token))
    return renewed


def release(item_id: str, lease_token: str | None) -> None:
    """Give back a claimed item unrun (a worker stopping): claimable again at once."""
    item = db_api.get_work_item(item_id)
    _check_mine(item)
    if not db_api.run_with_retry(db_api.release_work_item, item_id, lease_token, utcnow()):
        raise ConflictError(_not_held(item_id, lease_token))


def _check_mine(item: models.WorkItem) -> None:
    """A lease is held and changed by the item's own project only (an admin reads, not works, others')."""
    if item.project_id != context.current().project_id:
        raise ConflictError(f"Work item {item.id} belongs to another project; its lease can't be changed")


def _not_held(item_id: str, lease_token: str | None) -> str:
    holder = f"the lease {lease_token}" if lease_token else "a lease"
    return (
        f"Work item {item_id}: {holder} is not held on it any more "
        "(it was claimed again, finished or cancelled)"
    )


def depth() -> Sequence[tuple[str, str, int]]:
    """(queue, state, count) of the open items of every project, for /metrics."""
    return db_api.count_work_items_by_queue()


def find(q: db_api.ListQuery) -> list[models.WorkItem]:
    return db_api.list_work_items(q)


def get(item_id: str) -> models.WorkItem:
    return db_api.get_work_item(item_id)
