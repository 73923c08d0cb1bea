"""Registry and RPC isolation and executor fixtures for the executor tests."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest

from mistral.actions import registry
from mistral.executor.executor import Executor
from tests.unit.executor import support
from tests.unit.executor.support import Collector


def _ep(name: str, cls: type) -> metadata.EntryPoint:
    return metadata.EntryPoint(
        name=name, value=f"{support.__name__}:{cls.__name__}", group=registry.ENTRY_POINT_GROUP
    )


@pytest.fixture(autouse=True)
def _actions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    eps = list(registry._entry_points()) + [
        _ep("test.boom", support.BoomAction),
        _ep("test.odd", support.OddResultAction),
        _ep("test.result", support.ResultAction),
        _ep("test.context", support.ContextAction),
        _ep("test.app_context", support.AppContextAction),
    ]
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    registry.reset_cache()
    yield
    registry.reset_cache()


@pytest.fixture
def results() -> Collector:
    return Collector()


@pytest.fixture
def beats() -> Collector:
    return Collector()


@pytest.fixture
def make_executor(results: Collector, beats: Collector) -> Iterator[Any]:
    """Build a started executor reporting into ``results``/``beats``; stopped after the test."""
    made: list[Executor] = []

    def make(**kwargs: Any) -> Executor:
        kwargs.setdefault("heartbeat_interval", 0)
        kwargs.setdefault("release", Collector())
        executor = Executor(results, beats, **kwargs)
        executor.start()
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.stop(wait=False)
