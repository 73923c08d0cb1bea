"""Sending an outbox: actions to executors, finished sub-workflows to engines."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from mistral import config, context, notifier
from mistral.engine import hop_latency, tallies
from mistral.engine.outbox import Outbox, draining_chunks, group_by_target
from mistral.rpc import clients
from mistral.rpc.payloads import ActionRequest
from mistral.services import trusts

if TYPE_CHECKING:
    from mistral.engine.handover import Offer

LOG = logging.getLogger(__name__)

#: The RPC server name of this process's engine, when results should come back to it (see ``reply_here``).
_reply_to: str | None = None


def reply_here(engine: str | None) -> None:
    """Ask executors to send the results of the actions sent from now on to ``engine`` (None: any engine).

    NOTE: every result of a workflow execution locks its row: results spread over
    several engines make them wait for each other's transactions, while on one
    engine they share transactions. The engine that sends an action already has
    its workflow's next results on their way, so sending them back there keeps a
    workflow on one engine; workflows spread over engines as their starts do.
    """
    global _reply_to
    _reply_to = engine


def send(box: Outbox) -> None:
    """Best effort: what fails to leave is found again by the recovery loop."""
    try:
        if box.events:
            notifier.wake()
        if box.actions or box.handed:
            _hand_actions(box)
            _send_actions(box)
            hop_latency.actions_sent()
        if box.first_steps:
            clients.engine().run_first_steps(list(box.first_steps))
        if box.finished_subworkflows:
            clients.engine().on_subworkflows_finished(list(box.finished_subworkflows))
        if box.results:
            clients.engine().apply_results(list(box.results))
        for host, ids in box.abandoned.items():
            clients.executor().abandon_actions(ids, target=host)
    except Exception:  # noqa: BLE001 - the transaction has committed; recovery repairs a lost send
        LOG.exception("Sending work after commit failed; the recovery loop will resend it")
    finally:
        tallies.count(box.tally)
        box.clear()


def _hand_actions(box: Outbox) -> None:
    """Actions taken for the executor whose results caused them join its answer (``handover``)."""
    by_offer: dict[int, tuple[Offer, list[ActionRequest]]] = {}
    for offer, request in box.handed:
        by_offer.setdefault(id(offer), (offer, []))[1].append(request)
    box.handed.clear()
    for offer, requests in by_offer.values():
        for owner, owned in _group_by_owner(requests):
            ctx, owned = _as_owner_with_token(owner, owned)
            offer.handed.append({"context": ctx.to_dict(), "requests": [_payload(r) for r in owned]})


def _send_actions(box: Outbox) -> None:
    if not box.actions:
        return
    size = config.CONF.engine.action_batch_size
    groups = _group_by_owner(box.actions)[::-1]  # popped from the end: in order
    # NOTE: each request is dropped once its batch has left: in this process the executor's copies
    # pile up as they arrive, and this box holding every original too doubled the peak of a large
    # with-items.
    box.actions.clear()
    while groups:
        owner, owned = groups.pop()
        ctx, owned = _as_owner_with_token(owner, owned)
        by_target = group_by_target(owned)
        del owned
        with context.using(ctx):
            for target, requests in by_target.items():
                for batch in draining_chunks(requests, size):
                    clients.executor().run_actions([_payload(r) for r in batch], target=target)


def _as_owner_with_token(
    owner: dict[str, Any], owned: list[ActionRequest]
) -> tuple[context.Context, list[ActionRequest]]:
    """The context the executor runs ``owned`` with, and the requests carrying its renewed token.

    NOTE: the RPC context is the security context the executor runs the actions with:
    their owner's, never the context of whatever made the engine send them.
    """
    ctx = _as_owner(owner)
    if ctx.auth_token != owner.get("auth_token") and ctx.trust_id:
        owned = [_with_token(r, ctx) for r in owned]
    return ctx, owned


def _payload(request: ActionRequest) -> dict[str, Any]:
    payload = request.to_wire()
    if _reply_to is not None:
        payload["reply_to"] = _reply_to
    return payload


def _group_by_owner(requests: list[ActionRequest]) -> list[tuple[dict[str, Any], list[ActionRequest]]]:
    grouped: dict[tuple[Any, ...], tuple[dict[str, Any], list[ActionRequest]]] = {}
    for request in requests:
        owner = request.owner
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(owner.items()))
        grouped.setdefault(key, (owner, []))[1].append(request)
    return list(grouped.values())


def _as_owner(owner: dict[str, Any]) -> context.Context:
    ctx = context.owner(owner.get("project_id") or context.DEFAULT_PROJECT_ID, owner)
    if ctx.trust_id:
        return _renewed(ctx)
    current = context.current()
    if current.auth_token and (current.project_id, current.user_id) == (ctx.project_id, ctx.user_id):
        # NOTE: the owner's own request (a start, a direct run) still holds their token: pass it on.
        return ctx.with_(auth_token=current.auth_token)
    return ctx


def _renewed(ctx: context.Context) -> context.Context:
    """An owner acting through a Keystone trust, with a trust-scoped token that has time left."""
    try:
        return trusts.renewed(ctx)
    except Exception as error:  # noqa: BLE001 - the actions still go; one that needs the token fails
        LOG.warning("Could not renew the token of trust %s for its actions: %s", ctx.trust_id, error)
        return ctx


def _with_token(request: ActionRequest, ctx: context.Context) -> ActionRequest:
    """``request`` whose owner and credentials carry the renewed token too, so every copy agrees.

    NOTE: the credentials matter most: the executor lets them win over the RPC context.
    """
    token = {"auth_token": ctx.auth_token, "expires_at": ctx.expires_at}
    credentials = (
        {**request.credentials, **token} if request.credentials.get("auth_token") else request.credentials
    )
    return dataclasses.replace(request, owner={**request.owner, **token}, credentials=credentials)
