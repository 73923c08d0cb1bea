"""The order in which a process stops its services, and what a second signal does.

The real services are replaced by fakes that record every call into one list,
so the tests see the order of the stop steps across all the services.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mistral import config, launcher, process_info
from mistral.expressions import limits
from mistral.metrics import exposition

Events = list[tuple[str, str, dict[str, Any]]]


class Fake:
    """Records each method called on it as (name, method, keyword arguments)."""

    def __init__(self, name: str, events: Events, *args: Any, **kwargs: Any) -> None:
        self._name = name
        self._events = events
        self.host = name
        self.bind_addr = ("127.0.0.1", 0)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)

        def record(*args: Any, **kwargs: Any) -> Any:
            self._events.append((self._name, method, kwargs))
            return None

        return record


def _factory(name: str, events: Events) -> Any:
    return lambda *args, **kwargs: Fake(name, events, *args, **kwargs)


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[Events]:
    """Every service class the launcher builds is a recording fake."""
    from mistral.api import app as api_app
    from mistral.api import server as api_server
    from mistral.engine import engine, periodic
    from mistral.engine import server as engine_server
    from mistral.event_engine import engine as event_engine
    from mistral.executor import executor, server
    from mistral.scheduler import scheduler

    recorded: Events = []
    monkeypatch.setattr(executor, "Executor", _factory("executor", recorded))
    monkeypatch.setattr(server, "ExecutorServer", _factory("executor-server", recorded))
    monkeypatch.setattr(engine, "get", _factory("engine", recorded))
    monkeypatch.setattr(engine_server, "EngineServer", _factory("engine-server", recorded))
    monkeypatch.setattr(scheduler, "Scheduler", _factory("scheduler", recorded))
    monkeypatch.setattr(periodic, "PeriodicJobs", _factory("periodic", recorded))
    monkeypatch.setattr(event_engine, "EventEngine", _factory("event-engine", recorded))
    monkeypatch.setattr(api_app, "setup_app", lambda: None)
    monkeypatch.setattr(api_server, "make_server", _factory("api", recorded))
    yield recorded
    config.CONF.clear_override("type", group="executor")


def _stops(events: Events) -> list[str]:
    """The stop steps, in order, as 'service.method'."""
    return [f"{name}.{method}" for name, method, _ in events if method.startswith("stop")]


def _index(stops: list[str], step: str) -> int:
    assert step in stops, f"{step} never ran: {stops}"
    return stops.index(step)


#: The steps that stop taking new work, per service that has one.
INTAKE = {
    "api": ["api.stop"],
    "executor": ["executor-server.stop_consuming"],
    "engine": ["scheduler.stop", "periodic.stop"],
    "event-engine": ["event-engine.stop"],
}
#: The step that finishes the executor's accepted actions and sends their results.
DRAIN_EXECUTOR = "executor-server.stop"
#: The step that applies the results that arrived, then stops the engine.
STOP_ENGINE = "engine-server.stop"


@pytest.mark.parametrize(
    "names",
    [
        ["api", "engine", "executor", "event-engine"],
        ["api", "engine", "executor"],
        ["engine", "executor"],
        ["executor", "engine"],
        ["engine"],
        ["executor"],
        ["api"],
        ["event-engine"],
        ["api", "event-engine"],
    ],
)
def test_intake_stops_first_then_the_executor_then_the_engine(events: Events, names: list[str]) -> None:
    services = launcher.Services(names)
    services.start()
    events.clear()
    services.stop(grace=0)
    stops = _stops(events)
    if "executor" in names and "engine" in names:
        # Embedded mode: the executor's last results need a running engine.
        assert _index(stops, DRAIN_EXECUTOR) < _index(stops, STOP_ENGINE)
    intake = [step for name in names for step in INTAKE[name]]
    assert sorted(intake) == sorted(s for s in stops if s not in (DRAIN_EXECUTOR, STOP_ENGINE))
    last_intake = max(_index(stops, step) for step in intake)
    if "executor" in names:
        assert _index(stops, DRAIN_EXECUTOR) > last_intake
    if "engine" in names:
        assert _index(stops, STOP_ENGINE) > last_intake


def test_a_local_executor_drains_before_its_engine(events: Events) -> None:
    config.CONF.set_override("type", "local", group="executor")
    services = launcher.Services(["engine"])
    services.start()
    events.clear()
    services.stop(grace=0)
    stops = _stops(events)
    assert _index(stops, "executor-server.stop_consuming") < _index(stops, DRAIN_EXECUTOR)
    assert _index(stops, DRAIN_EXECUTOR) < _index(stops, STOP_ENGINE)


def test_the_executor_gets_what_is_left_of_the_grace(events: Events) -> None:
    services = launcher.Services(["engine", "executor"])
    services.start()
    events.clear()
    services.stop(grace=3)
    [kwargs] = [kw for name, method, kw in events if (name, method) == ("executor-server", "stop")]
    assert 2.5 < kwargs["grace"] <= 3


def test_a_failing_step_does_not_keep_the_others_from_running(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.Services(["engine", "executor"])
    services.start()
    events.clear()
    original = Fake.__getattr__

    def failing(self: Fake, method: str) -> Any:
        if (self._name, method) == ("scheduler", "stop"):
            raise RuntimeError("scheduler stop failed")
        return original(self, method)

    monkeypatch.setattr(Fake, "__getattr__", failing)
    services.stop(grace=0)
    assert DRAIN_EXECUTOR in _stops(events) and STOP_ENGINE in _stops(events)


# -- signals ---------------------------------------------------------------------------------------


def test_the_first_signal_asks_for_a_graceful_stop() -> None:
    exits: list[int] = []
    stop_signal = launcher.StopSignal(exit=exits.append)
    assert not stop_signal.wait(0)
    stop_signal.handle(signal.SIGTERM, None)
    assert stop_signal.wait(0)
    assert exits == []


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_exits_at_once_with_a_failure_code(second: int) -> None:
    exits: list[int] = []
    stop_signal = launcher.StopSignal(exit=exits.append)
    stop_signal.handle(signal.SIGTERM, None)
    started = time.monotonic()
    stop_signal.handle(second, None)
    assert time.monotonic() - started < 0.5
    assert len(exits) == 1 and exits[0] != 0


def test_install_handles_sigterm_and_sigint() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    stop_signal = launcher.StopSignal(exit=lambda code: None)
    try:
        stop_signal.install()
        assert signal.getsignal(signal.SIGTERM) == stop_signal.handle
        assert signal.getsignal(signal.SIGINT) == stop_signal.handle
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_a_stop_first_cuts_running_expressions_short(events: Events, monkeypatch: pytest.MonkeyPatch) -> None:
    """A runaway expression must not hold the stop of the service it runs in for its time limit."""
    services = launcher.Services(["engine", "executor"])
    services.start()
    events.clear()
    monkeypatch.setattr(limits, "stop_running", lambda: events.append(("limits", "stop_running", {})) or 1)
    services.stop(grace=0)
    assert events[0] == ("limits", "stop_running", {})


def test_a_metrics_port_starts_with_the_services_and_stops_last(
    events: Events, monkeypatch: pytest.MonkeyPatch, override_conf: Any
) -> None:
    class Port(Fake):
        def start(self) -> bool:
            self._events.append((self._name, "start", {}))
            return True

    monkeypatch.setattr(exposition, "Port", lambda host, port: Port(f"metrics:{host}:{port}", events))
    monkeypatch.setattr(process_info, "_services", [])
    override_conf("metrics", "port", 9464)
    services = launcher.Services(["engine", "executor"])
    services.start()
    assert ("metrics:0.0.0.0:9464", "start", {}) in events
    assert process_info.services() == ["engine", "executor"]
    events.clear()
    services.stop(grace=0)
    assert _stops(events)[-1] == "metrics:0.0.0.0:9464.stop"


def test_without_a_metrics_port_none_is_served(events: Events, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exposition, "Port", lambda host, port: pytest.fail("no port is configured"))
    launcher.Services(["executor"]).start()


def test_only_a_servers_own_process_keeps_to_one_cpu(events: Events, monkeypatch: pytest.MonkeyPatch) -> None:
    from mistral.api import reader_process
    from mistral.utils import cpus

    kept: list[str] = []
    readers: list[frozenset[int]] = []

    class Reader:
        def __init__(self, argv: list[str], backend: str, cpus: frozenset[int] = frozenset()) -> None:
            readers.append(cpus)

        def start(self) -> tuple[str, int]:
            return ("127.0.0.1", 1)

        def stop(self, timeout: float) -> None:
            pass

    monkeypatch.setattr(reader_process, "wanted", lambda names: True)
    monkeypatch.setattr(reader_process, "ReaderProcess", Reader)
    monkeypatch.setattr(cpus, "keep_to_one", lambda: kept.append("kept") or frozenset({1}))
    names = ["api", "engine", "executor"]
    # A harness (the functional tests' server) runs the services in its own process: all its CPUs stay.
    in_harness = launcher.Services(names)
    in_harness.start()
    in_harness.stop(grace=0)
    assert kept == [] and readers == []
    server = launcher.Services(names, ["--server", "all"])
    server.start()
    server.stop(grace=0)
    assert kept == ["kept"] and readers == [frozenset({1})]
