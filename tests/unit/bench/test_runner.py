"""bench/runner.py: the server-side duration of an execution."""

from __future__ import annotations

from bench import runner


def test_server_seconds_from_the_timestamps() -> None:
    ex = {"created_at": "2024-01-01 00:00:00", "updated_at": "2024-01-01 00:00:03"}
    assert runner.server_seconds(ex) == 3.0
    ex = {"created_at": "2024-01-01 00:00:00.250000", "updated_at": "2024-01-01 00:00:01"}
    assert runner.server_seconds(ex) == 0.75


def test_server_seconds_unknown_without_both_timestamps() -> None:
    assert runner.server_seconds(None) is None
    assert runner.server_seconds({"created_at": "2024-01-01 00:00:00"}) is None
