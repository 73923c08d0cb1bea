"""Starting and stopping the services of one process: api, engine, executor, event engine.

The embedded mode is every service in one process on the in-process transport;
the distributed mode is the same services in several processes over a broker.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any

from mistral import config
from mistral.rpc import transport

LOG = logging.getLogger(__name__)

SERVERS = ("all", "api", "engine", "executor", "event-engine", "notifier")
AVAILABLE = ("api", "engine", "executor", "event-engine")
#: On the in-process transport these reach each other only inside one process.
IN_PROCESS = ("api", "engine", "executor")


def resolve(requested: Sequence[str]) -> list[str]:
    """The services to run for ``--server``; unknown or unavailable names are errors."""
    unknown = [s for s in requested if s not in SERVERS]
    if unknown:
        raise ValueError(f"unknown server {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    wanted = list(AVAILABLE) if "all" in requested else list(dict.fromkeys(requested))
    missing = [s for s in wanted if s not in AVAILABLE]
    if missing:
        raise ValueError(f"{', '.join(missing)} is not part of this release yet")
    if transport.is_local() and not set(IN_PROCESS) <= set(wanted):
        raise ValueError(
            "[DEFAULT] transport_url is not set, so the services talk in-process and must all run in "
            "this process (--server all); set transport_url=rabbit://... to run them apart"
        )
    return wanted


class Services:
    """The engine and executor servers (and their loops) of this process."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._stops: list[Callable[[], Any]] = []

    def start(self) -> None:
        if "executor" in self.names or ("engine" in self.names and config.CONF.executor.type == "local"):
            self._start_executor()
        if "engine" in self.names:
            self._start_engine()
        if "event-engine" in self.names:
            self._start_event_engine()

    def _start_executor(self) -> None:
        from mistral.executor.executor import Executor
        from mistral.executor.server import ExecutorServer

        host = config.CONF.executor.host or socket.gethostname()
        server = ExecutorServer(Executor(host=host), host=host)
        server.start()
        self._stops.append(server.stop)
        LOG.info("Executor %s started", server.host)

    def _start_engine(self) -> None:
        from mistral.engine import cron, recovery, timers  # noqa: F401 - registers the scheduled jobs
        from mistral.engine.engine import get as get_engine
        from mistral.engine.periodic import PeriodicJobs
        from mistral.engine.server import EngineServer
        from mistral.scheduler.scheduler import Scheduler
        from mistral.services import expiration

        server = EngineServer(get_engine())
        server.start()
        self._stops.append(server.stop)
        scheduler = Scheduler()
        scheduler.start()
        self._stops.append(scheduler.stop)
        periodic = PeriodicJobs(
            [recovery.ensure_scheduled, cron.ensure_scheduled, expiration.ensure_scheduled]
        )
        periodic.start()
        self._stops.append(periodic.stop)
        LOG.info("Engine started")

    def _start_event_engine(self) -> None:
        from mistral.event_engine.engine import EventEngine

        event_engine = EventEngine()
        event_engine.start()
        self._stops.append(event_engine.stop)
        LOG.info("Event engine started")

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest whatever one of them does
                LOG.exception("Stopping %s failed", stop)
