"""Actions an engine hands back in its answer to results: run at once, without a take, in their context."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mistral.executor.executor import Executor
from mistral.executor.server import ExecutorServer
from mistral.rpc import clients
from mistral.rpc.payloads import ACCEPTS_HANDED
from tests.unit.executor.support import Collector, request, serving

HOST = "exec-handed"


class HandingEngine:
    """Answers each result of ``chain`` with the next action of it, taken for the executor already."""

    def __init__(self) -> None:
        self.results = Collector()
        self.takes: list[str] = []
        self.chain: dict[str, dict[str, Any]] = {}

    def take_actions(self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: str) -> dict[str, Any]:
        self.takes += action_ex_ids
        return {"result": action_ex_ids}

    def on_action_results(self, ctxt: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        self.results(results)
        handed = [self.chain.pop(r["action_ex_id"]) for r in results if r["action_ex_id"] in self.chain]
        if not handed or not all(r.get(ACCEPTS_HANDED) for r in results):
            return {"result": None}
        return {"result": {"handed": [{"context": {"project_id": "owner"}, "requests": handed}]}}

    def report_running_actions(self, ctxt: dict[str, Any], action_ex_ids: list[str], executor: Any) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[tuple[HandingEngine, ExecutorServer]]:
    fake = HandingEngine()
    with serving(fake, Executor(heartbeat_interval=0, host=HOST)) as executor_server:
        yield fake, executor_server


def test_a_handed_action_runs_without_a_take_and_reports_like_any_other(
    servers: tuple[HandingEngine, ExecutorServer],
) -> None:
    engine, _ = servers
    engine.chain = {
        "one": request("two", "std.echo", {"output": 2}),
        "two": request("three", "std.echo", {"output": 3}),
    }
    clients.executor().run_actions([request("one", "std.echo", {"output": 1})])
    engine.results.wait_for(3)
    assert [(r["action_ex_id"], r["data"]) for r in engine.results.items] == [
        ("one", 1),
        ("two", 2),
        ("three", 3),
    ]
    assert engine.takes == ["one"], "only the action cast to the executors is taken by the executor"
    assert all(r["executor"] == HOST and r[ACCEPTS_HANDED] for r in engine.results.items)


def test_a_handed_chain_stays_on_the_thread_that_reported_it(
    servers: tuple[HandingEngine, ExecutorServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each next action runs where the result before it was reported: no hand-over between threads."""
    engine, executor_server = servers
    threads: dict[str, int] = {}
    invoke = Executor._invoke

    def recording(self: Executor, job: Any) -> Any:
        threads[job.action_ex_id] = threading.get_ident()
        return invoke(self, job)

    monkeypatch.setattr(Executor, "_invoke", recording)
    engine.chain = {f"a{i}": request(f"a{i + 1}", "std.echo", {"output": i + 1}) for i in range(5)}
    clients.executor().run_actions([request("a0", "std.echo", {"output": 0})])
    engine.results.wait_for(6)
    assert len(set(threads.values())) == 1, threads


def test_a_stopping_executor_asks_for_no_actions(servers: tuple[HandingEngine, ExecutorServer]) -> None:
    engine, executor_server = servers
    executor_server.stop()
    executor_server.executor._report_to_engine([{"action_ex_id": "late", "data": None}], None)
    (result,) = engine.results.items
    assert result["executor"] == HOST and ACCEPTS_HANDED not in result


def test_actions_handed_after_the_executor_stopped_go_back_at_once() -> None:
    released: list[list[str]] = []
    executor = Executor(report=lambda results: None, release=released.append, heartbeat_interval=0, host=HOST)
    late = {"context": {"project_id": "owner"}, "requests": [request("late", "std.noop", {})]}
    executor._run_handed([late])
    assert released == [["late"]], "stop gives back what it holds; one handed after that goes back too"


def test_a_handed_group_that_cannot_start_does_not_fail_the_report() -> None:
    """The results are confirmed: sent again, they would be handed the same actions a second time."""
    released: list[list[str]] = []
    executor = Executor(report=lambda results: None, release=released.append, heartbeat_interval=0, host=HOST)
    executor.start()
    try:
        executor._run_handed([{"context": ["not a mapping"], "requests": [request("x", "std.noop", {})]}])
    finally:
        executor.stop()
    assert released == []
