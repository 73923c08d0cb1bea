"""What an executor tells the metrics and the logs: actions queued and running, their durations, their ids."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.unit.executor.support import Collector, request
from tests.unit.executor.test_executor import wait_until


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_actions_queued_and_running_per_executor(make_executor: Any, results: Collector) -> None:
    host = f"exec-{uuid.uuid4().hex[:8]}"
    executor = make_executor(max_workers=1, host=host)
    slow, quick = request("a", "std.sleep", {"seconds": 0.3}), request("b", "std.echo", {"output": 1})
    executor.run_actions([slow, quick])
    wait_until(lambda: _value("mistral_executor_actions_running", executor=host) == 1)
    assert _value("mistral_executor_actions_queued", executor=host) == 1
    results.wait_for(2)
    wait_until(lambda: _value("mistral_executor_actions_running", executor=host) == 0)
    assert _value("mistral_executor_actions_queued", executor=host) == 0


def test_action_durations_by_how_they_ended(make_executor: Any, results: Collector) -> None:
    count = "mistral_action_duration_seconds_count"
    before = {state: _value(count, state=state) for state in ("SUCCESS", "ERROR", "RUNNING")}
    executor = make_executor()
    executor.run_actions(
        [
            request("ok", "std.sleep", {"seconds": 0.05}),
            request("bad", "std.fail"),
            request("async", "std.async_noop"),
        ]
    )
    results.wait_for(3)
    wait_until(lambda: _value(count, state="RUNNING") == before["RUNNING"] + 1)
    assert _value(count, state="SUCCESS") == before["SUCCESS"] + 1
    assert _value(count, state="ERROR") == before["ERROR"] + 1
    assert _value("mistral_action_duration_seconds_sum", state="SUCCESS") >= 0.05


def test_a_synchronous_run_counts_too(make_executor: Any) -> None:
    count = "mistral_action_duration_seconds_count"
    before = _value(count, state="SUCCESS")
    assert make_executor().run_action_sync(request("s", "std.echo", {"output": 2}))["data"] == 2
    assert _value(count, state="SUCCESS") == before + 1


def test_lines_about_an_action_name_its_execution_and_task(
    make_executor: Any, results: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    ids = {"workflow_execution_id": "wf-1", "task_execution_id": "task-1"}
    with caplog.at_level(logging.WARNING, logger="mistral.executor"):
        make_executor().run_actions([request("boom", "test.boom", context=ids)])
        results.wait_for(1)
    (line,) = [r for r in caplog.records if "boom" in r.getMessage()]
    assert line.execution_ids == "[exec=wf-1 task=task-1] "  # type: ignore[attr-defined]
