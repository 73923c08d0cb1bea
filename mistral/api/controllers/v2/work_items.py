"""``/v2/work_items``: external workers claim actions from named queues (not in Mistral 23).

- ``POST /v2/work_items/claim`` ``{"queue", "tags", "max", "lease", "wait", "worker"}`` long-polls
  and answers ``{"work_items": [...]}``, each item with the ``lease_token`` of this claim.
- ``PUT /v2/work_items/{id}/lease`` ``{"lease": seconds}`` renews the lease (a heartbeat);
  ``DELETE /v2/work_items/{id}/lease`` gives the item back unrun. Both take the claim's token in
  the ``X-Mistral-Lease-Token`` header (without it, whoever holds the item).
- ``GET /v2/work_items?queue=&state=`` and ``GET /v2/work_items/{id}`` show items.

The result goes back through ``PUT /v2/action_executions/{action_execution_id}`` with the same
header, so that a worker whose lease ran out and whose item someone else took is refused (409).
"""

from __future__ import annotations

import threading
from typing import Any

import pecan
from pecan import rest

from mistral import config
from mistral.api import contract, listing, policy
from mistral.api.controllers.v2 import base
from mistral.api.controllers.v2 import work_item_resources as res
from mistral.api.errors import RequestError
from mistral.exceptions import InputError
from mistral.services import work_items

LEASE_HEADER = "X-Mistral-Lease-Token"


class _WaitSlots:
    """How many claims may wait at once: each holds one of the API server's threads while it waits.

    NOTE: the built-in server has [api] api_workers threads; half of them at most wait, so other
    requests (the workers' results among them) are always served. A claim that finds no free slot
    looks once and answers at once; the worker library then pauses before it asks again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting = 0

    def take(self) -> bool:
        with self._lock:
            if self._waiting >= max(config.CONF.api.api_workers // 2, 1):
                return False
            self._waiting += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._waiting -= 1


_slots = _WaitSlots()


def lease_token() -> str | None:
    """The claim's token a worker sends with its heartbeats and its result, if any."""
    return pecan.request.headers.get(LEASE_HEADER) or None


def _claim(body: dict[str, Any]) -> dict[str, Any]:
    try:
        request = work_items.Claim.from_body(body)
    except InputError as error:
        raise RequestError(str(error)) from error
    waits = request.wait > 0 and _slots.take()
    try:
        taken = work_items.claim(request, may_wait=waits)
    finally:
        if waits:
            _slots.give_back()
    return {"work_items": [res.render(item, with_token=True) for item in taken]}


class ClaimController(rest.RestController):
    @contract.expose(
        "Claim work items of a queue for a lease, waiting for some up to 'wait' seconds",
        body=contract.Body(res.ClaimRequest),
        returns=contract.FreeForm("{'work_items': [...]}, each with the lease_token of this claim"),
    )
    def post(self, **params: Any) -> dict[str, Any]:
        policy.enforce("work_items:claim")
        return _claim(base.json_body(res.ClaimRequest.field_names()))


class LeaseController(rest.RestController):
    @contract.expose(
        "Renew the lease of a claimed work item (a heartbeat)",
        body=contract.Body(res.LeaseRequest),
        returns=contract.FreeForm("The work item"),
    )
    def put(self, item_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("work_items:update")
        body = base.json_body(res.LeaseRequest.field_names())
        try:
            lease = work_items.Claim.from_body({"queue": "-", "lease": body.get("lease")}).lease
        except InputError as error:
            raise RequestError(str(error)) from error
        return res.render(work_items.extend_lease(item_id, lease_token(), lease), with_token=True)

    @contract.expose("Give a claimed work item back unrun", status=204)
    def delete(self, item_id: str, **params: Any) -> None:
        policy.enforce("work_items:update")
        work_items.release(item_id, lease_token())


class WorkItemsController(rest.RestController):
    claim = ClaimController()
    lease = LeaseController()

    @contract.expose("List work items", query=res.QUERY, returns=contract.FreeForm("{'work_items': [...]}"))
    def get_all(self, **params: Any) -> dict[str, Any]:
        policy.enforce("work_items:list", all_projects=params.get("all_projects"))
        q, fields = listing.parse(params, res.WorkItem, res.FILTERS)
        items = work_items.find(q)
        return listing.envelope(
            "work_items", items, q, fields, params, lambda i: res.render(i, fields=fields)
        )

    @contract.expose("Get a work item", returns=contract.FreeForm("The work item"))
    def get_one(self, item_id: str, **params: Any) -> dict[str, Any]:
        policy.enforce("work_items:get")
        return res.render(work_items.get(item_id))
