"""Stopping an executor with a grace: what finishes in time is reported, the rest is let go."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from tests.unit.executor.support import Collector, request

#: What stop() may take beyond its grace (thread joins, the last flush).
MARGIN = 0.3


def test_stop_with_a_grace_abandons_what_runs_longer(
    make_executor: Any, results: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    # A long flush interval: only stop() can explain the quick result being sent.
    executor = make_executor(max_workers=2, flush_interval=30)
    executor.run_actions(
        [
            request("quick", "std.sleep", {"seconds": 0.2}),
            request("long", "std.sleep", {"seconds": 3}),
            request("queued", "std.echo", {"output": 1}),
        ]
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="mistral.executor.executor"):
        executor.stop(grace=1.0)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.0 + MARGIN
    # Finished inside the grace: delivered. Never started: cancelled, not run.
    assert list(results.by_id()) == ["quick"]
    abandoned = [r for r in caplog.records if r.levelno == logging.WARNING and "long" in r.getMessage()]
    assert abandoned, caplog.text
    assert "quick" not in abandoned[0].getMessage()


def test_stop_with_a_grace_returns_once_everything_finished(make_executor: Any, results: Collector) -> None:
    executor = make_executor(flush_interval=30)
    executor.run_actions(
        [request(f"a{i}", "std.sleep", {"seconds": 0.2}) for i in range(5)]
        + [request("echo", "std.echo", {"output": "hi"})]
    )
    started = time.monotonic()
    executor.stop(grace=5)
    assert time.monotonic() - started < 0.2 + MARGIN
    assert sorted(results.by_id()) == ["a0", "a1", "a2", "a3", "a4", "echo"]
    assert results.by_id()["echo"] == {"action_ex_id": "echo", "data": "hi"}


def test_stop_with_no_grace_waits_for_nothing(make_executor: Any, results: Collector) -> None:
    executor = make_executor()
    executor.run_actions([request("long", "std.sleep", {"seconds": 1})])
    started = time.monotonic()
    executor.stop(grace=0)
    assert time.monotonic() - started < MARGIN
    assert results.items == []


def test_actions_taken_but_never_started_are_given_back(make_executor: Any, results: Collector) -> None:
    given_back = Collector()
    executor = make_executor(max_workers=1, flush_interval=30, release=given_back)
    executor.run_actions(
        [
            request("running", "std.sleep", {"seconds": 0.3}),
            request("queued-1", "std.echo", {"output": 1}),
            request("queued-2", "std.echo", {"output": 2}),
        ]
    )
    time.sleep(0.05)
    executor.stop(grace=1.0)
    assert list(results.by_id()) == ["running"]
    assert given_back.calls == [["queued-1", "queued-2"]]
