"""The RPC tables are the one declaration: the clients, the engine and the servers all match them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mistral import exceptions
from mistral.engine.engine import Engine
from mistral.engine.server import EngineEndpoint, QueuedHandlers
from mistral.executor.server import ExecutorEndpoint
from mistral.rpc import clients, methods
from mistral.rpc.methods import RpcMethod

#: Client parameters that choose how a message travels, not what it says (never on the wire).
TRANSPORT_OPTIONS = frozenset({"timeout", "server", "target"})

#: Public Engine methods that are no RPC method, each with its reason.
NOT_REMOTE = {
    "on_heartbeats": "applies the batches the server queues from report_running_actions",
    "cascade": "a scheduler job (mistral.engine.cascades)",
    "apply_results_through": "the engine server hands its results applier to its own process's engine",
}


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def _params(func: Callable[..., Any], dropped: frozenset[str] = frozenset()) -> list[str]:
    names = list(inspect.signature(func).parameters)
    return [n for n in names if n not in {"self", "ctxt"} | dropped]


def _client(cls: type[clients._Client]) -> Any:
    """A client without a transport, which records what it would send instead."""
    client = object.__new__(cls)
    client.sent = []
    client._call = lambda method, **kw: client.sent.append((methods.CALL, method, kw))
    client._cast = lambda method, **kw: client.sent.append((methods.CAST, method, kw))
    return client


def _handler_of(rpc: RpcMethod) -> Callable[..., Any]:
    return getattr(QueuedHandlers if rpc.queued else Engine, rpc.name)


def test_every_client_method_is_in_its_table_and_every_entry_has_one() -> None:
    assert _public(clients.EngineClient) == set(methods.ENGINE)
    assert _public(clients.ExecutorClient) == set(methods.EXECUTOR)


def test_every_public_engine_method_is_remote_or_says_why_not() -> None:
    unqueued = {name for name, rpc in methods.ENGINE.items() if not rpc.queued}
    undecided = _public(Engine) - set(methods.ENGINE) - set(NOT_REMOTE)
    assert undecided == set(), "add them to methods.ENGINE, or to NOT_REMOTE with the reason"
    assert unqueued <= _public(Engine)
    assert set(NOT_REMOTE) <= _public(Engine)


def test_the_server_queues_exactly_the_queued_methods() -> None:
    assert _public(QueuedHandlers) == {name for name, rpc in methods.ENGINE.items() if rpc.queued}


@pytest.mark.parametrize("name", sorted(methods.ENGINE))
def test_the_engine_client_and_its_handler_take_the_same_parameters(name: str) -> None:
    client = _params(getattr(clients.EngineClient, name), TRANSPORT_OPTIONS)
    assert client == _params(_handler_of(methods.ENGINE[name]))


@pytest.mark.parametrize("name", sorted(methods.EXECUTOR))
def test_the_executor_client_and_its_endpoint_take_the_same_parameters(name: str) -> None:
    client = _params(getattr(clients.ExecutorClient, name), TRANSPORT_OPTIONS)
    assert client == _params(getattr(ExecutorEndpoint, name))


@pytest.mark.parametrize(
    ("cls", "table"),
    [(clients.EngineClient, methods.ENGINE), (clients.ExecutorClient, methods.EXECUTOR)],
)
def test_each_client_method_sends_its_own_name_its_parameters_and_its_kind(
    cls: type[clients._Client], table: Mapping[str, RpcMethod]
) -> None:
    for name, rpc in table.items():
        client = _client(cls)
        wire = _params(getattr(cls, name), TRANSPORT_OPTIONS)
        getattr(client, name)(*["x"] * len(wire))
        ((kind, sent, kwargs),) = client.sent
        assert (kind, sent) == (rpc.kind, name)
        assert sorted(set(kwargs) - TRANSPORT_OPTIONS) == sorted(wire)


def test_only_casts_are_quick_and_the_servers_deliver_them_directly() -> None:
    for table in (methods.ENGINE, methods.EXECUTOR):
        assert all(rpc.kind is methods.CAST for rpc in table.values() if rpc.quick)
    assert "report_running_actions" in methods.quick_casts(methods.ENGINE)
    assert methods.quick_casts(methods.EXECUTOR) == ("run_actions", "abandon_actions")


class _FakeEngine:
    """Answers every engine method: a call that fails, or a cast that fails."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def method(**kwargs: Any) -> Any:
            if name == "pause_workflow":
                raise exceptions.InputError(f"Can't pause execution {kwargs['wf_ex_id']}")
            if name == "run_first_steps":
                raise RuntimeError("a cast that fails")
            return {"name": name, **kwargs}

        return method


def test_the_engine_endpoint_serves_every_entry_calls_answering_outcomes_and_casts_nothing() -> None:
    endpoint = EngineEndpoint(_FakeEngine(), *[None] * 3)  # type: ignore[arg-type]
    assert all(callable(getattr(endpoint, name)) for name in methods.ENGINE)
    assert endpoint.skip_task({}, task_ex_id="t1") == {"result": {"name": "skip_task", "task_ex_id": "t1"}}
    assert endpoint.pause_workflow({}, wf_ex_id="e1") == {
        "error": {"type": "InputError", "message": "Can't pause execution e1"}
    }
    assert endpoint.run_first_steps({}, wf_ex_ids=["e1"]) is None  # logged: a cast has nobody to answer
