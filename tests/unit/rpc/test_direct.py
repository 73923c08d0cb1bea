"""Calls between services of one process: in the caller's thread, on copies, in a fresh context."""

from __future__ import annotations

import contextvars
import datetime
import enum
import json
import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_serialization import jsonutils

from mistral.rpc import clients, direct, transport

_seen: contextvars.ContextVar[str] = contextvars.ContextVar("test_direct_seen", default="fresh")


class Endpoint:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def echo(self, ctxt: dict[str, Any], value: Any) -> dict[str, Any]:
        self.calls.append(("echo", ctxt, threading.current_thread()))
        value["touched"] = True  # must not reach the caller's object
        return {"result": {"value": value, "seen": _seen.get()}}

    def boom(self, ctxt: dict[str, Any]) -> None:
        raise ValueError("broken handler")

    def slow(self, ctxt: dict[str, Any]) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(5)
        return {"result": "done"}

    def queue_it(self, ctxt: dict[str, Any], ids: list[str]) -> None:
        self.calls.append(("queue_it", ctxt, ids))


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    direct.reset()
    served = Endpoint()
    direct.serve("t_direct", "s1", served, quick_casts=("queue_it",))
    yield served
    direct.reset()


class Colour(enum.StrEnum):
    RED = "red"


def _as_json_would(value: Any) -> Any:
    return json.loads(json.dumps(value, default=jsonutils.to_primitive))


def _containers(value: Any) -> list[int]:
    """The ids of every dict and list in ``value``, itself included."""
    if isinstance(value, dict):
        return [id(value)] + [i for v in value.values() for i in _containers(v)]
    if isinstance(value, (list, tuple)):
        return [id(value)] + [i for v in value for i in _containers(v)]
    return []


@pytest.mark.parametrize(
    "value",
    [
        {"action_ex_id": "a1", "input": {"output": [1, 2.5, None, True, "x"]}, "context": {"index": 3}},
        [{"nested": [[{"deep": {"er": []}}]]}, ()],
        {"tuple": (1, (2, 3)), "set": {4}, "when": datetime.datetime(2026, 12, 3, 15, 0, 0)},
        {1: "an int key", None: "none", False: "bool", 2.5: "float", "s": {3: [4]}},
        {"colour": Colour.RED, Colour.RED: 1, "big": 10**30, "nan": float("nan")},
        "a str",
        7,
    ],
)
def test_a_copy_is_what_another_process_would_decode_and_shares_no_container(value: Any) -> None:
    copy = direct.copied(value)
    expected = _as_json_would(value)
    assert json.dumps(copy, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert type(copy) is type(expected)
    assert not set(_containers(copy)) & set(_containers(value))


def test_a_call_runs_in_the_callers_thread_on_copies(endpoint: Endpoint) -> None:
    value = {"n": 1}
    answer = direct.call("t_direct", None, "echo", {"project_id": "p"}, {"value": value})
    assert answer == {"result": {"value": {"n": 1, "touched": True}, "seen": "fresh"}}
    assert value == {"n": 1}
    assert endpoint.calls == [("echo", {"project_id": "p"}, threading.current_thread())]


def test_a_fresh_payload_is_handed_over_as_it_is_still_in_a_context_of_its_own(endpoint: Endpoint) -> None:
    value = {"n": 1}
    token = _seen.set("caller's")
    try:
        answer = direct.call("t_direct", None, "echo", {}, {"value": value}, fresh=True)
    finally:
        _seen.reset(token)
    assert value == {"n": 1, "touched": True}
    assert answer["result"]["value"] is value and answer["result"]["seen"] == "fresh"


def test_a_call_another_process_sent_is_not_copied_again() -> None:
    """``call_wire`` runs what the bridge decoded a moment ago: the handler gets those objects."""
    transport.reset()
    clients.reset()
    received: list[Any] = []

    class Engine:
        def take_actions(self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: str) -> Any:
            received.append(action_ex_ids)
            return {"result": action_ex_ids}

    ids = ["a1"]
    direct.serve(transport.ENGINE_TOPIC, "e1", Engine())
    try:
        kwargs = {"action_ex_ids": ids, "executor": "x"}
        answer = clients.call_wire(transport.ENGINE_TOPIC, None, "take_actions", {}, kwargs, None)
    finally:
        clients.reset()
        transport.reset()
    assert answer == {"result": ["a1"]} and received[0] is ids


def test_the_handler_does_not_see_the_callers_context_variables(endpoint: Endpoint) -> None:
    token = _seen.set("caller's")
    try:
        answer = direct.call("t_direct", "s1", "echo", {}, {"value": {}})
    finally:
        _seen.reset(token)
    assert answer["result"]["seen"] == "fresh"


def test_a_handlers_exception_reaches_the_caller_as_a_remote_error(endpoint: Endpoint) -> None:
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        direct.call("t_direct", None, "boom", {}, {})
    assert raised.value.exc_type == "ValueError"
    assert "broken handler" in raised.value.value


@pytest.mark.parametrize(("topic", "server"), [("t_other", None), ("t_direct", "s2")])
def test_no_server_of_this_process_leaves_the_message_to_the_transport(
    endpoint: Endpoint, topic: str, server: str | None
) -> None:
    assert direct.call(topic, server, "echo", {}, {"value": {}}) is direct.ABSENT
    assert direct.cast(topic, server, "queue_it", {}, {"ids": ["a"]}) is False
    assert endpoint.calls == []


def test_only_quick_casts_are_delivered_here(endpoint: Endpoint) -> None:
    assert direct.cast("t_direct", None, "queue_it", {"user_id": "u"}, {"ids": ["a", "b"]}) is True
    assert direct.cast("t_direct", None, "echo", {}, {"value": {}}) is False
    assert endpoint.calls == [("queue_it", {"user_id": "u"}, ["a", "b"])]


def test_withdraw_waits_for_the_call_under_way_and_takes_no_more(endpoint: Endpoint) -> None:
    endpoint.release.clear()
    answers: list[Any] = []
    caller = threading.Thread(target=lambda: answers.append(direct.call("t_direct", None, "slow", {}, {})))
    caller.start()
    assert endpoint.entered.wait(5)
    entry = direct.find("t_direct")
    withdrawing = threading.Thread(target=direct.withdraw, args=("t_direct", "s1"))
    withdrawing.start()
    withdrawing.join(0.05)
    assert withdrawing.is_alive()  # the call under way still runs
    endpoint.release.set()
    withdrawing.join(5)
    caller.join(5)
    assert answers == [{"result": "done"}]
    assert direct.find("t_direct") is None
    assert entry is not None and entry.run("echo", {}, {"value": {}}) is direct.ABSENT


def test_a_client_of_this_process_calls_the_registered_engine_directly() -> None:
    transport.reset()
    clients.reset()

    class Engine:
        def take_actions(self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: str) -> Any:
            return {"result": [i for i in action_ex_ids if i != "taken-before"]}

    direct.serve(transport.ENGINE_TOPIC, "e1", Engine())
    try:
        assert clients.engine().take_actions(["a", "taken-before"], "x") == ["a"]
    finally:
        clients.reset()
        transport.reset()
    assert direct.find(transport.ENGINE_TOPIC) is None
