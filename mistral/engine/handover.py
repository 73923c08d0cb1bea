"""Handing an executor its next actions in the answer to its results (issue 14: a task per broker hop).

A chain of tasks used to cost, per task, a cast of the action to the executors,
the executor's take (a call and a transaction) and its result (a call and a
transaction). When an executor's results are applied (its message carries an
``Offer`` through the applier, whose batches mix messages), the actions they
cause in the same workflow execution (as many as there were results, and only
those the executor may run) are instead inserted already taken by that executor,
in the transaction that applies the results, and travel back in the answer: one
call and one transaction per task. The other actions are cast as before.

Exactly once (architecture rule 7) holds because the take is recorded before
the answer leaves, as an executor's own take is. An answer can still be lost
(the engine dies after its commit, or answers after the executor stopped
waiting): the executor then sends the same results again, as it does for any
unconfirmed batch, and the engine that finds them applied already takes again
(from that moment: the silence recovery judges counts from there) and hands
again the actions taken for them that their executor never reported on. Only the
executor that ran those results sends them, so an action is handed again only
to the one executor that was meant to get it, and only when that executor did
not: a call either returns its answer or fails, never both.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import action_requests, outbox
from mistral.rpc.payloads import ACCEPTS_HANDED, ActionRequest

#: The ``runtime_context`` key of a handed action: the id of a result it was handed for.
HANDED_FOR_KEY = "handed_for"
#: The key under which a result carries its message's offer through the engine (never on the wire).
OFFER_KEY = "_handover_offer"


@dataclass(eq=False)
class Offer:
    """One executor's message of results: what its answer hands back."""

    executor: str
    result_ids: frozenset[str]
    #: the answer's actions, per RPC context (``sender``), each once its take has committed
    handed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def limit(self) -> int:
        """As many actions as results: a chain stays on its executor, a fan-out spreads as before."""
        return len(self.result_ids)

    def answer(self) -> dict[str, Any] | None:
        return {"handed": self.handed} if self.handed else None


#: The offer applied under and the workflow execution it may hand actions of (its results' own: that is
#: where a result sent again looks for them), set around that workflow's share of a batch of results.
_offer: contextvars.ContextVar[tuple[Offer, str] | None] = contextvars.ContextVar(
    "mistral_handover", default=None
)


def offer_of(results: Sequence[Mapping[str, Any]]) -> Offer | None:
    """The offer of a message whose every result comes from one executor that runs handed actions."""
    executors = {r.get("executor") if r.get(ACCEPTS_HANDED) else None for r in results}
    if len(executors) != 1:
        return None
    (executor,) = executors
    if not executor:
        return None
    return Offer(executor, frozenset(r["action_ex_id"] for r in results))


def attach(offer: Offer | None, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` that carry their message's offer through the applier (its batches mix messages)."""
    if offer is None:
        return results
    return [{**r, OFFER_KEY: offer} for r in results]


def offer_in(results: Sequence[Mapping[str, Any]]) -> Offer | None:
    """The first offer among ``results`` (one workflow's share of a batch), if any."""
    return next((r[OFFER_KEY] for r in results if r.get(OFFER_KEY) is not None), None)


@contextlib.contextmanager
def offering(offer: Offer | None, wf_ex_id: str) -> Iterator[None]:
    """Actions of ``wf_ex_id`` created inside may be taken for ``offer``'s executor, handed in its answer."""
    token = _offer.set((offer, wf_ex_id) if offer is not None else None)
    try:
        yield
    finally:
        _offer.reset(token)


def _may_run(offer: Offer, wf_ex_id: str, row: Mapping[str, Any]) -> bool:
    runtime = row.get("runtime_context") or {}
    target = runtime.get("target")
    return (
        (target is None or target == offer.executor)
        and runtime.get("workflow_execution_id") == wf_ex_id
        and action_requests.mocked_result(runtime) is None
    )


def mark_taken(sent: Sequence[dict[str, Any]], now: datetime.datetime) -> list[dict[str, Any]]:
    """Take for the offering executor (if any) the first rows of ``sent`` it may run; answer those."""
    current = _offer.get()
    if current is None:
        return []
    offer, wf_ex_id = current
    room = offer.limit - sum(1 for o, _ in outbox.current().handed if o is offer)
    handed = [row for row in sent if _may_run(offer, wf_ex_id, row)][: max(room, 0)]
    if not handed:
        return []
    any_result = min(offer.result_ids)
    for row in handed:
        row.update(taken_at=now, last_heartbeat=now, executor_host=offer.executor)
        row["runtime_context"] = {**row["runtime_context"], HANDED_FOR_KEY: any_result}
    return handed


def hand(request: ActionRequest) -> None:
    """``request``, taken for the offering executor, leaves in its answer once the transaction commits."""
    current = _offer.get()
    if current is None:
        raise RuntimeError("An action is handed outside an offer: it would never run")
    outbox.current().handed.append((current[0], request))


def hand_again(repeated_ids: Sequence[str]) -> None:
    """Results the offering executor sent again: hand again what was taken for its message, unreported.

    NOTE: a heartbeat or a result of the executor's proves it got an action; one it never
    mentioned since the take (``last_heartbeat`` is still the take's time) it did not get.
    An executor sends a batch again as it was, so the ids of its message are those of the first.
    """
    current = _offer.get()
    if current is None or current[0].result_ids.isdisjoint(repeated_ids):
        return
    offer, wf_ex_id = current
    unreported = [
        action_ex
        for action_ex in db_api.find_unreported_actions(wf_ex_id, offer.executor)
        if (action_ex.runtime_context or {}).get(HANDED_FOR_KEY) in offer.result_ids
    ]
    # NOTE: taken again now, as an executor's own take asked again is: the executor sends its
    # results again only after its call timed out, often a whole silence period after the first
    # take, and recovery must not judge the action silent (and send it to another executor as
    # well) before the executor's first heartbeat of it. The take is a compare-and-set: an action
    # recovery gave back meanwhile and another executor took is not handed.
    retaken = set(
        db_api.take_action_executions([a.id for a in unreported], offer.executor, utcnow(), again=True)
    )
    for action_ex in unreported:
        if action_ex.id in retaken:
            hand(action_requests.of(action_ex))
