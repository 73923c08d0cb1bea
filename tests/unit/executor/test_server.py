"""Round trips over the in-process transport: engine client → executor server → engine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mistral import context
from mistral.executor.executor import Executor
from mistral.executor.server import ExecutorServer
from mistral.rpc import clients
from tests.unit.executor.support import WAIT, Collector, request, serving


class FakeEngine:
    """Receives what executors send to the engine topic."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.results = Collector()
        self.beats = Collector()
        self.taken: dict[str, str] = {}
        self.refuse: set[str] = set()
        #: this many result deliveries fail, as if the engine died before committing them
        self.fail_results = 0

    def take_actions(self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: str) -> dict[str, Any]:
        free = [i for i in action_ex_ids if i not in self.taken and i not in self.refuse]
        self.taken.update(dict.fromkeys(free, executor))
        return {"result": free}

    def on_action_results(self, ctxt: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail_results > 0:
            self.fail_results -= 1
            return {"error": {"type": "EngineError", "message": "not applied"}}
        self.results(results)
        return {"result": None}

    def report_running_actions(
        self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: str | None = None
    ) -> None:
        self.beats(action_ex_ids)


# NOTE: the servers are shared by the module because stopping an oslo.messaging
# server with the threading executor takes about a second (its idle worker
# threads notice shutdown only once a second).
@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeEngine, ExecutorServer]]:
    fake = FakeEngine()
    # Default sinks: results and heartbeats travel over RPC to the fake engine.
    with serving(fake, Executor(heartbeat_interval=0.02)) as executor_server:
        yield fake, executor_server


@pytest.fixture
def engine(servers: tuple[FakeEngine, ExecutorServer]) -> FakeEngine:
    servers[0].clear()
    return servers[0]


@pytest.fixture
def executor_server(servers: tuple[FakeEngine, ExecutorServer]) -> ExecutorServer:
    return servers[1]


def test_results_come_back_to_the_engine(executor_server: ExecutorServer, engine: FakeEngine) -> None:
    clients.executor().run_actions(
        [request("echo", "std.echo", {"output": {"n": 1}}), request("boom", "test.boom")]
    )
    engine.results.wait_for(2)
    assert engine.results.by_id() == {
        "echo": {"action_ex_id": "echo", "data": {"n": 1}},
        "boom": {"action_ex_id": "boom", "error": "ValueError: boom"},
    }


def test_security_context_travels_with_the_request(
    executor_server: ExecutorServer, engine: FakeEngine
) -> None:
    with context.using(context.Context(project_id="p5", user_name="carol", auth_token="secret")):
        clients.executor().run_actions([request("ctx", "test.context")])
    security = engine.results.wait_for(1)[0]["data"]["security"]
    assert (security["project_id"], security["user_name"], security["auth_token"]) == (
        "p5",
        "carol",
        "secret",
    )


def test_requests_can_target_one_executor(executor_server: ExecutorServer, engine: FakeEngine) -> None:
    clients.executor().run_actions([request("t", "std.noop")], target=executor_server.host)
    assert engine.results.wait_for(1) == [{"action_ex_id": "t", "data": None}]


def _wait_for_beat(engine: FakeEngine, action_ex_id: str) -> None:
    # NOTE: a beat for an earlier test's result still on its way to the engine may come first.
    deadline = time.monotonic() + WAIT
    while action_ex_id not in engine.beats.items and time.monotonic() < deadline:
        time.sleep(0.005)
    assert action_ex_id in engine.beats.items


def test_heartbeats_reach_the_engine(executor_server: ExecutorServer, engine: FakeEngine) -> None:
    clients.executor().run_actions([request("slow", "std.sleep", {"seconds": 0.15})])
    _wait_for_beat(engine, "slow")
    engine.results.wait_for(1)


def test_run_action_sync_answers_the_caller(executor_server: ExecutorServer, engine: FakeEngine) -> None:
    with context.using(context.Context(project_id="p6")):
        result = clients.executor().run_action_sync(request("sync", "test.context"), timeout=5)
    assert result["action_ex_id"] == "sync"
    assert result["data"]["security"]["project_id"] == "p6"
    assert clients.executor().run_action_sync(request("e", "std.echo", {"output": [1]})) == {
        "action_ex_id": "e",
        "data": [1],
    }
    # Sync runs answer the caller only; nothing goes to the engine topic.
    assert engine.results.items == []


def test_stop_flushes_results_to_the_engine(engine: FakeEngine) -> None:
    server = ExecutorServer(Executor(flush_interval=30, heartbeat_interval=0), host="stopping-executor")
    server.start()
    clients.executor().run_actions(
        [request("quick", "std.noop"), request("slow", "std.sleep", {"seconds": 0.1})], target=server.host
    )
    # Stop only once both are taken: a message still on the in-process queue dies with the server.
    deadline = time.monotonic() + WAIT
    while server.executor.running_ids != ["slow"] and time.monotonic() < deadline:
        time.sleep(0.005)
    assert engine.results.items == []  # the quick result waits for company (30 s interval)
    server.stop()
    assert sorted(engine.results.by_id()) == ["quick", "slow"]


def test_an_action_runs_only_once_taken_and_only_once(
    executor_server: ExecutorServer, engine: FakeEngine
) -> None:
    clients.executor().run_actions([request("twice", "std.echo", {"output": 1})])
    engine.results.wait_for(1)
    clients.executor().run_actions([request("twice", "std.echo", {"output": 2})])  # a duplicate delivery
    clients.executor().run_actions([request("pair", "std.echo", {"output": 4})] * 2)  # twice in one message
    engine.results.wait_for(2)
    engine.refuse.add("cancelled")
    clients.executor().run_actions([request("cancelled", "std.echo", {"output": 3})])
    time.sleep(0.2)
    assert engine.results.items == [{"action_ex_id": "twice", "data": 1}, {"action_ex_id": "pair", "data": 4}]
    assert engine.taken == {"twice": executor_server.host, "pair": executor_server.host}


def test_results_no_engine_confirmed_are_sent_again_and_kept_alive(
    executor_server: ExecutorServer, engine: FakeEngine
) -> None:
    engine.fail_results = 2
    clients.executor().run_actions([request("kept", "std.echo", {"output": "x"})])
    _wait_for_beat(engine, "kept")  # no longer running, but its result is still ours
    assert engine.results.wait_for(1, timeout=5) == [{"action_ex_id": "kept", "data": "x"}]
    assert engine.fail_results == 0
