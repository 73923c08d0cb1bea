"""The executor's pool, batching, heartbeats and timeouts, with injected sinks."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mistral import context
from mistral.config import CONF
from mistral.executor.batcher import MAX_BATCH
from mistral.executor.executor import Executor
from tests.unit.executor.support import WAIT, Collector, request


def wait_until(predicate: Any, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.005)


def test_results_are_reported(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    executor.run_actions(
        [
            request("echo", "std.echo", {"output": "hi"}),
            request("fail", "std.fail"),
            request("unknown", "std.nope"),
            request("bad", "std.echo", {}),
            request("boom", "test.boom"),
        ]
    )
    got = {r["action_ex_id"]: r for r in results.wait_for(5)}
    assert got["echo"] == {"action_ex_id": "echo", "data": "hi"}
    assert got["fail"]["error"] == "ActionException: std.fail failed on purpose"
    assert "std.nope" in got["unknown"]["error"]
    assert "output" in got["bad"]["error"]
    assert got["boom"]["error"] == "ValueError: boom"


def test_run_actions_returns_before_the_actions_finish(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    started = time.monotonic()
    executor.run_actions([request("slow", "std.sleep", {"seconds": 0.2})])
    assert time.monotonic() - started < 0.1
    assert executor.running_ids == ["slow"]
    results.wait_for(1)
    assert executor.running_ids == []


def test_async_action_reports_that_it_started(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    executor.run_actions([request("async", "std.async_noop"), request("echo", "std.echo", {"output": 1})])
    results.wait_for(2)
    executor.stop()
    assert sorted(results.items, key=lambda r: r["action_ex_id"]) == [
        {"action_ex_id": "async", "started": True},
        {"action_ex_id": "echo", "data": 1},
    ]
    assert executor.running_ids == []


def test_workers_see_the_requesters_security_context(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    with context.using(context.Context(project_id="p7", user_name="bob")):
        executor.run_actions([request("ctx", "test.context")])
    security = results.wait_for(1)[0]["data"]["security"]
    assert (security["project_id"], security["user_name"]) == ("p7", "bob")


def test_many_results_share_few_messages(make_executor: Any, results: Collector) -> None:
    # A long interval: only the size limit can explain a quick flush.
    executor = make_executor(flush_interval=30)
    ids = [f"a{i}" for i in range(1250)]
    executor.run_actions([request(i, "std.echo", {"output": i}) for i in ids])
    results.wait_for(1250)
    assert sorted(r["action_ex_id"] for r in results.items) == sorted(ids)
    assert max(len(call) for call in results.calls) <= MAX_BATCH
    assert len(results.calls) <= 5


def test_lone_result_is_not_held_back(make_executor: Any, results: Collector) -> None:
    # Nothing else is running, so waiting for company would only add latency.
    executor = make_executor(flush_interval=30)
    for step in range(20):
        started = time.monotonic()
        executor.run_actions([request(f"s{step}", "std.echo", {"output": step})])
        results.wait_for(step + 1)
        assert time.monotonic() - started < 0.1
    assert len(results.calls) == 20


def test_stop_flushes_buffered_results(make_executor: Any, results: Collector) -> None:
    executor = make_executor(flush_interval=30)
    executor.run_actions(
        [request("quick", "std.echo", {"output": 1}), request("slow", "std.sleep", {"seconds": 0.2})]
    )
    wait_until(lambda: executor.running_ids == ["slow"])
    # The quick result waits for the slow one's company (30 s interval).
    assert results.items == []
    executor.stop()
    assert sorted(results.by_id()) == ["quick", "slow"]


def test_stop_without_wait_still_reports_running_actions(make_executor: Any, results: Collector) -> None:
    executor = make_executor(flush_interval=30)
    executor.run_actions(
        [request("quick", "std.echo", {"output": 1}), request("slow", "std.sleep", {"seconds": 0.1})]
    )
    wait_until(lambda: executor.running_ids == ["slow"])
    executor.stop(wait=False)
    assert list(results.by_id()) == ["quick"]
    results.wait_for(2)
    assert sorted(results.by_id()) == ["quick", "slow"]


def test_stop_without_wait_drops_queued_actions(make_executor: Any, results: Collector) -> None:
    executor = make_executor(max_workers=1)
    executor.run_actions([request("slow", "std.sleep", {"seconds": 0.1}), request("queued", "std.noop")])
    wait_until(lambda: executor.running_ids == ["queued", "slow"])
    executor.stop(wait=False)
    # Never started, so no longer ours: no heartbeat will claim it is alive.
    assert executor.running_ids == ["slow"]
    assert [r["action_ex_id"] for r in results.wait_for(1)] == ["slow"]
    assert executor.running_ids == []


def test_run_actions_needs_a_started_executor(results: Collector) -> None:
    executor = Executor(results, results, heartbeat_interval=0)
    with pytest.raises(RuntimeError):
        executor.run_actions([request("a", "std.noop")])
    executor.start()
    executor.stop()
    with pytest.raises(RuntimeError):
        executor.run_actions([request("a", "std.noop")])


def test_a_failing_sink_does_not_stop_reporting(make_executor: Any) -> None:
    delivered = Collector()
    failures = []

    def flaky(batch: list[dict[str, Any]]) -> None:
        if not failures:
            failures.append(batch)
            raise ConnectionError("broker down")
        delivered(batch)

    executor = Executor(flaky, heartbeat_interval=0)
    executor.start()
    try:
        executor.run_actions([request("lost", "std.noop")])
        wait_until(lambda: failures)
        executor.run_actions([request("kept", "std.noop")])
        assert [r["action_ex_id"] for r in delivered.wait_for(1)] == ["kept"]
    finally:
        executor.stop()


def test_heartbeats_report_running_ids(make_executor: Any, beats: Collector, results: Collector) -> None:
    executor = make_executor(heartbeat_interval=0.02)
    executor.run_actions([request("slow", "std.sleep", {"seconds": 0.2}), request("quick", "std.noop")])
    beats.wait_for(2)
    results.wait_for(2)
    beat_count = len(beats.calls)
    time.sleep(0.1)
    # Only running actions are reported and an idle executor sends nothing.
    assert all("slow" in call for call in beats.calls)
    assert beats.calls[-1] == ["slow"]
    assert len(beats.calls) == beat_count


def test_heartbeat_interval_comes_from_config(results: Collector, beats: Collector) -> None:
    CONF.set_override("check_interval", 0, group="action_heartbeat")
    try:
        executor = Executor(results, beats)
        executor.start()
        executor.run_actions([request("slow", "std.sleep", {"seconds": 0.1})])
        results.wait_for(1)
        executor.stop()
        assert beats.calls == []
    finally:
        CONF.clear_override("check_interval", group="action_heartbeat")


def test_timeout_reports_an_error_once(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    executor.run_actions([request("slow", "std.sleep", {"seconds": 0.3}, timeout=0.05)])
    started = time.monotonic()
    assert results.wait_for(1) == [{"action_ex_id": "slow", "error": "Action timed out after 0.05 seconds"}]
    assert time.monotonic() - started < 0.25
    assert executor.running_ids == []
    executor.stop()  # waits for the sleeping thread, whose late result is dropped
    assert len(results.items) == 1


def test_action_finishing_in_time_is_not_timed_out(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    executor.run_actions([request("quick", "std.echo", {"output": 1}, timeout=5)])
    assert results.wait_for(1) == [{"action_ex_id": "quick", "data": 1}]


def test_run_action_sync_returns_the_result(results: Collector) -> None:
    executor = Executor(results, results, heartbeat_interval=0)
    assert executor.run_action_sync(request("a", "std.echo", {"output": 3})) == {
        "action_ex_id": "a",
        "data": 3,
    }
    assert executor.run_action_sync(request("b", "test.boom")) == {
        "action_ex_id": "b",
        "error": "ValueError: boom",
    }
    assert executor.run_action_sync(request("c", "std.async_noop")) == {"action_ex_id": "c", "async": True}
    assert results.calls == []


def test_run_action_sync_runs_in_the_calling_thread() -> None:
    executor = Executor(Collector(), heartbeat_interval=0)
    with context.using(context.Context(project_id="p3")):
        result = executor.run_action_sync(request("a", "test.context"))
    assert result["data"]["security"]["project_id"] == "p3"
    assert result["data"]["thread"] == threading.get_ident()


def test_run_action_sync_honours_timeout() -> None:
    executor = Executor(Collector(), heartbeat_interval=0)
    result = executor.run_action_sync(request("a", "std.sleep", {"seconds": 0.2}, timeout=0.05))
    assert result == {"action_ex_id": "a", "error": "Action timed out after 0.05 seconds"}


def test_a_result_names_the_engine_and_workflow_execution_of_its_request(
    make_executor: Any, results: Collector
) -> None:
    executor = make_executor()
    routed = {**request("r", "std.echo", {"output": 1}), "reply_to": "engine-1"}
    routed["context"] = {"workflow_execution_id": "wf-1"}
    executor.run_actions([routed, request("plain", "std.echo", {"output": 2})])
    got = {r["action_ex_id"]: r for r in results.wait_for(2)}
    routes = {"reply_to": "engine-1", "workflow_execution_id": "wf-1"}
    assert got["r"] == {"action_ex_id": "r", "data": 1, **routes}
    assert got["plain"] == {"action_ex_id": "plain", "data": 2}
