"""The engine acts as an execution's owner: the ad-hoc action cache, the context sent to executors."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.db import models
from mistral.engine import action_requests, actions, owners, sender
from mistral.engine.outbox import Outbox
from mistral.lang.specs import ActionSpec
from mistral.rpc import clients
from mistral.rpc.payloads import ActionRequest
from mistral.services import trusts
from mistral.utils import redact


def _wf_ex(project_id: str, owner: dict[str, Any] | None = None) -> models.WorkflowExecution:
    runtime = {owners.KEY: owner} if owner is not None else {}
    return models.WorkflowExecution(id=f"ex-{project_id}", project_id=project_id, runtime_context=runtime)


def test_the_owner_is_never_internal_nor_admin_and_keeps_no_token() -> None:
    starter = context.Context(
        project_id="p", user_id="u", auth_token="secret", roles=("admin",), is_admin=True, is_internal=True
    )
    record = starter.owner_record()
    assert record == {"user_id": "u", "roles": ["admin"]}
    owner = owners.of(_wf_ex("p", record))
    assert (owner.project_id, owner.user_id, owner.roles) == ("p", "u", ("admin",))
    assert not owner.is_internal and not owner.is_admin and owner.auth_token is None


def test_an_execution_without_an_owner_record_acts_as_its_project() -> None:
    owner = owners.of(_wf_ex("p"))
    assert (owner.project_id, owner.user_id, owner.is_internal) == ("p", None, False)


def test_the_ad_hoc_action_cache_is_keyed_by_project(monkeypatch: pytest.MonkeyPatch) -> None:
    actions.clear_cache()
    loaded: list[tuple[str, bool]] = []

    def load(name: str, namespace: str, workbook: str | None) -> ActionSpec | None:
        ctx = context.current()
        loaded.append((ctx.project_id, ctx.is_internal))
        return (
            None
            if ctx.project_id == "b"
            else ActionSpec(name=f"{name} of {ctx.project_id}", short_name=name, base="std.echo")
        )

    monkeypatch.setattr(actions, "_load_ad_hoc", load)
    monkeypatch.setattr(actions.dynamic_code, "find", lambda owner, name, namespace: None)
    internal_b = context.Context(project_id="b", is_internal=True)
    with pytest.raises(Exception, match=r"Action not found \[x\]"):
        actions.resolve(internal_b, "x", {})
    spec_a = actions._ad_hoc_spec(context.owner("a"), "x", "", None)
    assert spec_a is not None and spec_a.name == "x of a"
    assert actions._ad_hoc_spec(context.owner("a"), "x", "", None) is spec_a  # cached for a
    assert actions._ad_hoc_spec(context.owner("b"), "x", "", None) is None  # b's own answer, cached
    # One load per project, never with an all-seeing context.
    assert loaded == [("b", False), ("a", False)]
    assert actions.cache_key("a", "x", "", None) != actions.cache_key("b", "x", "", None)
    actions.clear_cache()


def test_actions_leave_for_executors_with_their_owners_context(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[context.Context, list[str]]] = []

    class Executor:
        def run_actions(self, requests: list[dict[str, Any]], target: str | None = None) -> None:
            sent.append((context.current(), [r["action_ex_id"] for r in requests]))

    monkeypatch.setattr(clients, "executor", Executor)
    box = Outbox()
    box.actions += [
        ActionRequest("a1", "std.noop", owner={"project_id": "a", "user_id": "ua"}),
        ActionRequest("b1", "std.noop", owner={"project_id": "b", "trust_id": "t"}),
        ActionRequest("a2", "std.noop", owner={"project_id": "a", "user_id": "ua"}),
    ]
    # The engine works with whatever context made it send: here, project a's user with a token.
    with context.using(context.Context(project_id="a", user_id="ua", auth_token="tok", is_internal=True)):
        sender.send(box)

    by_project = {ctx.project_id: (ctx, ids) for ctx, ids in sent}
    assert sorted(by_project) == ["a", "b"]
    ctx_a, ids_a = by_project["a"]
    assert ids_a == ["a1", "a2"] and ctx_a.auth_token == "tok" and not ctx_a.is_internal
    ctx_b, ids_b = by_project["b"]
    assert ids_b == ["b1"] and ctx_b.auth_token is None and ctx_b.trust_id == "t" and not ctx_b.is_internal


def test_an_action_request_names_its_owner() -> None:
    wf_ex = _wf_ex("a", {"user_id": "ua"})
    runtime = action_requests.runtime_context("std.noop", [], action_requests.Delivery(), wf_ex=wf_ex)
    request = action_requests.build({"id": "x", "project_id": "a", "runtime_context": runtime})
    assert request.owner == {"project_id": "a", "user_id": "ua"}
    assert ActionRequest.from_dict(request.to_dict()) == request


def test_an_owner_acting_through_a_trust_keeps_its_trust_scoped_token_and_no_other() -> None:
    through_trust = context.Context(
        project_id="p", user_id="u", auth_token="trust-token", expires_at="2030-01-01T00:00:00+00:00",
        trust_id="t", is_trust_scoped=True,
    )  # fmt: skip
    record = through_trust.owner_record()
    assert record == {
        "user_id": "u", "trust_id": "t",
        "auth_token": "trust-token", "expires_at": "2030-01-01T00:00:00+00:00",
    }  # fmt: skip
    owner = owners.of(_wf_ex("p", record))
    assert (owner.auth_token, owner.trust_id, owner.is_trust_scoped) == ("trust-token", "t", True)
    # A token in a record without a trust (written by hand, or by an older version) is never used.
    assert context.owner("p", {"user_id": "u", "auth_token": "stray"}).auth_token is None


def test_actions_of_a_trust_owner_leave_with_a_renewed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[context.Context, list[dict[str, Any]]]] = []

    class Executor:
        def run_actions(self, requests: list[dict[str, Any]], target: str | None = None) -> None:
            sent.append((context.current(), requests))

    monkeypatch.setattr(clients, "executor", Executor)
    monkeypatch.setattr(
        trusts, "renewed", lambda ctx: ctx.with_(auth_token=f"fresh-{ctx.trust_id}", expires_at="later")
    )
    box = Outbox()
    stale = {"project_id": "b", "trust_id": "t", "auth_token": "stale", "expires_at": "now"}
    box.actions += [
        ActionRequest("b1", "std.noop", owner=stale),
        ActionRequest("a1", "std.noop", owner={"project_id": "a"}),
    ]
    sender.send(box)

    by_project = {ctx.project_id: (ctx, requests) for ctx, requests in sent}
    ctx_b, (request_b,) = by_project["b"]
    assert (ctx_b.auth_token, ctx_b.expires_at, ctx_b.trust_id) == ("fresh-t", "later", "t")
    assert (request_b["owner"]["auth_token"], request_b["owner"]["expires_at"]) == ("fresh-t", "later")
    ctx_a, _ = by_project["a"]
    assert ctx_a.auth_token is None and ctx_a.trust_id is None


def test_a_renewed_trust_token_replaces_the_stale_copy_in_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The executor lets the credentials win over the RPC context: their token must be the fresh one."""
    sent: list[dict[str, Any]] = []

    class Executor:
        def run_actions(self, requests: list[dict[str, Any]], target: str | None = None) -> None:
            sent.extend(requests)

    monkeypatch.setattr(clients, "executor", Executor)
    monkeypatch.setattr(trusts, "renewed", lambda ctx: ctx.with_(auth_token="fresh", expires_at="later"))
    stale = {"auth_token": "stale", "expires_at": "now"}
    box = Outbox()
    box.actions.append(
        ActionRequest(
            "b1",
            "nova.servers_list",
            owner={"project_id": "b", "trust_id": "t", **stale},
            credentials={**stale, "region_name": "R1"},
        )  # fmt: skip
    )
    sender.send(box)
    (request,) = sent
    assert request["credentials"] == {"auth_token": "fresh", "expires_at": "later", "region_name": "R1"}


CATALOG = {"methods": ["password"], "catalog": [{"type": "identity", "endpoints": []}]}


def test_credentials_are_kept_apart_from_the_owner_record() -> None:
    starter = context.Context(
        project_id="p", user_id="u", auth_token="secret", service_catalog=CATALOG, region_name="R1"
    )
    assert "auth_token" not in starter.owner_record()
    assert starter.credentials() == {"auth_token": "secret", "service_catalog": CATALOG, "region_name": "R1"}
    assert context.Context(project_id="p").credentials() == {}


def test_a_trust_scoped_token_is_kept_only_in_the_owner_record_which_the_engine_renews() -> None:
    through_trust = context.Context(
        project_id="p", auth_token="trust-token", expires_at="soon", trust_id="t", is_trust_scoped=True,
        service_catalog=CATALOG, region_name="R1",
    )  # fmt: skip
    assert through_trust.credentials() == {"service_catalog": CATALOG, "region_name": "R1"}
    assert through_trust.owner_record()["auth_token"] == "trust-token"


def test_an_action_request_carries_its_executions_credentials_untouched() -> None:
    wf_ex = _wf_ex("a", {"user_id": "ua", "trust_id": "tr1"})
    wf_ex.runtime_context[owners.CREDENTIALS_KEY] = {"auth_token": "tok", "service_catalog": CATALOG}
    runtime = action_requests.runtime_context(
        "nova.servers_list", [], action_requests.Delivery(), wf_ex=wf_ex
    )
    request = action_requests.build({"id": "x", "project_id": "a", "runtime_context": runtime})
    assert request.credentials == {"auth_token": "tok", "service_catalog": CATALOG}
    # The owner (RPC context, grouping key) stays free of the token; the trust passes as it is.
    assert request.owner == {"project_id": "a", "user_id": "ua", "trust_id": "tr1"}
    assert ActionRequest.from_dict(request.to_dict()) == request
    # Redelivery and re-runs rebuild the same request from the stored row.
    stored = models.ActionExecution(id="x", name="nova.servers_list", project_id="a", runtime_context=runtime)
    assert action_requests.of(stored).credentials == request.credentials


def test_std_actions_never_store_the_credentials() -> None:
    wf_ex = _wf_ex("a", {"user_id": "ua"})
    wf_ex.runtime_context[owners.CREDENTIALS_KEY] = {"auth_token": "tok", "service_catalog": CATALOG}
    runtime = action_requests.runtime_context("std.echo", [], action_requests.Delivery(), wf_ex=wf_ex)
    assert owners.CREDENTIALS_KEY not in runtime
    assert action_requests.build({"id": "x", "project_id": "a", "runtime_context": runtime}).credentials == {}


def test_an_execution_without_credentials_sends_none() -> None:
    runtime = action_requests.runtime_context("std.noop", [], action_requests.Delivery(), wf_ex=_wf_ex("a"))
    assert action_requests.build({"id": "x", "project_id": "a", "runtime_context": runtime}).credentials == {}


def test_a_token_an_owner_record_carries_is_sent_as_credentials_too() -> None:
    # A trigger that fires with a trust may keep its trust-scoped token in the owner record itself.
    wf_ex = _wf_ex("a", {"user_id": "ua", "trust_id": "tr1", "auth_token": "trust-scoped"})
    runtime = action_requests.runtime_context("std.noop", [], action_requests.Delivery(), wf_ex=wf_ex)
    request = action_requests.build({"id": "x", "project_id": "a", "runtime_context": runtime})
    assert request.credentials == {"auth_token": "trust-scoped"}
    assert request.owner["trust_id"] == "tr1"


def test_credentials_are_masked_in_logged_requests() -> None:
    request = ActionRequest("x", "keystone.users_get", credentials={"auth_token": "tok", "region_name": "R"})
    assert "tok" not in str(redact.masked([request.to_dict()]))
