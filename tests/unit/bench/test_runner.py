"""bench/runner.py: the server-side duration of an execution."""

from __future__ import annotations

import argparse

import pytest

from bench import runner
from bench.client import Client


def test_server_seconds_from_the_timestamps() -> None:
    ex = {"created_at": "2024-01-01 00:00:00", "updated_at": "2024-01-01 00:00:03"}
    assert runner.server_seconds(ex) == 3.0
    ex = {"created_at": "2024-01-01 00:00:00.250000", "updated_at": "2024-01-01 00:00:01"}
    assert runner.server_seconds(ex) == 0.75


def test_server_seconds_unknown_without_both_timestamps() -> None:
    assert runner.server_seconds(None) is None
    assert runner.server_seconds({"created_at": "2024-01-01 00:00:00"}) is None


class _WarmUpBench(runner.Bench):
    """Starts nothing: records the warm-up executions and ends each in ``state``."""

    def __init__(self, engines: int, state: str = "SUCCESS") -> None:
        super().__init__(Client("http://127.0.0.1:9", 1.0), argparse.Namespace(engines=engines, timeout=5.0))
        self.state = state
        self.started: list[str] = []

    def ensure_workflow(self, key: str) -> str:
        return f"bench_{key}"

    def start(self, name: str, wf_input: dict, description: str) -> dict:
        self.started.append(name)
        return {"id": str(len(self.started))}

    def wait(self, ex: dict, deadline: float, poll: object = None) -> tuple[dict, float | None]:
        return {"state": self.state, "state_info": "boom"}, 0.01


@pytest.mark.parametrize(("engines", "runs"), [(1, 2), (2, 4), (3, 6)])
def test_every_engine_gets_warm_up_executions(engines: int, runs: int) -> None:
    bench = _WarmUpBench(engines)
    bench.warm_up()
    assert bench.started == ["bench_warmup"] * runs


def test_a_failed_warm_up_stops_the_run() -> None:
    with pytest.raises(RuntimeError, match="warm-up execution ended ERROR: boom"):
        _WarmUpBench(1, "ERROR").warm_up()
