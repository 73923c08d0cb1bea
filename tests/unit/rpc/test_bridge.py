"""The bridge from the API's reader process to the engine's process: calls, casts, errors, a side gone."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest

from mistral.rpc import bridge


class Services:
    """What the engine's process would run: records each message and answers as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.casts: list[tuple[Any, ...]] = []
        self.cast_seen = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def call(
        self, topic: str, server: str | None, method: str, ctxt: dict, kwargs: dict, timeout: Any
    ) -> Any:
        self.calls.append((topic, server, method, ctxt, kwargs, timeout))
        self.release.wait(10)
        if method == "boom":
            raise ValueError("no such workflow: x")
        if method == "remote":
            raise oslo_messaging.RemoteError("NotFoundError", "gone", "trace")
        if method == "slow":
            raise oslo_messaging.MessagingTimeout("no executor")
        return {"echo": kwargs, "user": ctxt.get("user")}

    def cast(self, topic: str, server: str | None, method: str, ctxt: dict, kwargs: dict) -> None:
        self.casts.append((topic, server, method, ctxt, kwargs))
        self.cast_seen.set()


@pytest.fixture
def pair() -> Iterator[tuple[bridge.BridgeClient, bridge.BridgeServer, Services]]:
    ours, theirs = socket.socketpair()
    services = Services()
    server = bridge.BridgeServer(ours, services.call, services.cast, workers=4)
    server.start()
    client = bridge.BridgeClient(theirs)
    yield client, server, services
    services.release.set()
    server.stop(5)
    theirs.close()


def test_a_call_is_answered_with_its_callers_context(pair: Any) -> None:
    client, _, services = pair
    answer = client.call("engine", None, "start_workflow", {"user": "u1"}, {"wf_identifier": "wf"}, 30)
    assert answer == {"echo": {"wf_identifier": "wf"}, "user": "u1"}
    assert services.calls == [("engine", None, "start_workflow", {"user": "u1"}, {"wf_identifier": "wf"}, 30)]


def test_a_cast_is_delivered_and_not_answered(pair: Any) -> None:
    client, _, services = pair
    client.cast("engine", "e1", "run_first_steps", {"user": "u1"}, {"wf_ex_ids": ["a"]})
    assert services.cast_seen.wait(5)
    assert services.casts == [("engine", "e1", "run_first_steps", {"user": "u1"}, {"wf_ex_ids": ["a"]})]


def test_a_failure_on_the_other_side_is_a_remote_error_naming_it(pair: Any) -> None:
    client, _, _ = pair
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        client.call("engine", None, "boom", {}, {})
    assert raised.value.exc_type == "ValueError" and "no such workflow: x" in raised.value.value
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        client.call("engine", None, "remote", {}, {})
    assert (raised.value.exc_type, raised.value.value) == ("NotFoundError", "gone")


def test_a_timeout_on_the_other_side_is_a_timeout_here(pair: Any) -> None:
    client, _, _ = pair
    with pytest.raises(oslo_messaging.MessagingTimeout, match="no executor"):
        client.call("executor", None, "slow", {}, {})


def test_a_call_not_answered_in_time_is_a_timeout(pair: Any) -> None:
    client, _, services = pair
    services.release.clear()
    with pytest.raises(oslo_messaging.MessagingTimeout, match="start_workflow"):
        client.call("engine", None, "start_workflow", {}, {}, 0.2)


def test_answers_reach_the_threads_that_wait_for_them(pair: Any) -> None:
    client, _, _ = pair
    answers: dict[int, Any] = {}

    def one(i: int) -> None:
        answers[i] = client.call("engine", None, "start_workflow", {"user": f"u{i}"}, {"n": i})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == {i: {"echo": {"n": i}, "user": f"u{i}"} for i in range(40)}


def test_calls_waiting_when_the_engines_process_goes_fail_and_so_do_later_ones(pair: Any) -> None:
    client, server, services = pair
    services.release.clear()
    failed: list[BaseException] = []

    def waiting() -> None:
        try:
            client.call("engine", None, "start_workflow", {}, {}, 30)
        except Exception as error:  # noqa: BLE001 - the test looks at it
            failed.append(error)

    thread = threading.Thread(target=waiting)
    thread.start()
    while not services.calls:
        threading.Event().wait(0.01)
    server.stop(5)
    thread.join(10)
    assert [type(e) for e in failed] == [bridge.BridgeClosed]
    with pytest.raises(bridge.BridgeClosed):
        client.call("engine", None, "start_workflow", {}, {}, 30)


def test_a_frame_over_the_limit_ends_the_bridge(monkeypatch: pytest.MonkeyPatch, pair: Any) -> None:
    client, _, _ = pair
    monkeypatch.setattr(bridge, "MAX_FRAME", 10)
    with pytest.raises(bridge.BridgeClosed):
        client.call("engine", None, "start_workflow", {}, {"large": "x" * 100}, 30)


def test_the_engines_process_sends_only_what_the_tables_declare() -> None:
    from mistral.rpc import clients

    with pytest.raises(ValueError, match="not a call"):
        clients.call_wire("mistral_engine", None, "run_first_steps", {}, {}, None)
    with pytest.raises(ValueError, match="not a cast"):
        clients.cast_wire("mistral_engine", None, "start_workflow", {}, {})
    with pytest.raises(KeyError):
        clients.call_wire("mistral_engine", None, "no_such_method", {}, {}, None)
    with pytest.raises(KeyError):
        clients.cast_wire("no_such_topic", None, "run_first_steps", {}, {})
