"""Registered test jobs and a steppable clock for the scheduler tests."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mistral.db.types import utcnow
from mistral.scheduler import jobs


class FakeClock:
    """A clock the test moves by hand, so nothing sleeps."""

    def __init__(self, now: datetime.datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


class Calls:
    """Thread-safe record of job calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[dict[str, Any]] = []

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self.items.append(item)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def register() -> Iterator[Any]:
    """Register job functions for one test only."""
    names: list[str] = []

    def _register(name: str, func: Any) -> None:
        jobs.register(name, func)
        names.append(name)

    yield _register
    for name in names:
        jobs.unregister(name)


@pytest.fixture
def set_conf(override_conf: Any) -> Any:
    """Override [scheduler] options for one test."""
    return lambda name, value: override_conf("scheduler", name, value)
