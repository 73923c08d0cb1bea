"""Starting and stopping the services of one process: api, engine, executor, event engine, notifier.

The embedded mode is every service in one process on the in-process transport;
the distributed mode is the same services in several processes over a broker.

NOTE on stopping: each service hands over stop steps, each in a phase, and
every step of a phase runs before any of the next. First everything stops
taking new work; then the executor gives its running actions the shutdown
grace and sends their results; only then does the engine stop, after applying
what arrived. In the embedded mode the executor's last results thus reach a
running engine; with a broker, whatever a stopped engine did not take stays
queued for another one.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn

from mistral import config, process_info
from mistral.api import reader_process
from mistral.expressions import limits
from mistral.metrics import exposition
from mistral.rpc import transport
from mistral.utils import cpus

LOG = logging.getLogger(__name__)

SERVERS = ("all", "api", "engine", "executor", "event-engine", "notifier")
AVAILABLE = ("api", "engine", "executor", "event-engine", "notifier")
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


class Phase(enum.IntEnum):
    """When a stop step runs: every step of one phase before any step of the next."""

    INTAKE = 1  # take no new work: API requests, executor requests, scheduled jobs, events
    EXECUTOR = 2  # accepted actions finish (or are abandoned) and their results are sent
    ENGINE = 3  # the engine applies the results that arrived, commits them, and stops


#: Seconds the API gives requests in flight to finish once it stops listening.
API_DRAIN = 2.0
#: Seconds a stop step that waits for a thread is given at least, even when the grace is spent.
MIN_WAIT = 1.0


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing to do to stop a service; ``run`` gets the end of the grace (``time.monotonic()``)."""

    phase: Phase
    name: str
    run: Callable[[float], object]


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


class Services:
    """The services of this process; ``stop()`` stops them phase by phase."""

    def __init__(self, names: Sequence[str], argv: Sequence[str] | None = None) -> None:
        """``argv``: the process's arguments, for a child process (the API's reader) to read the same."""
        self.names = list(names)
        self.argv = None if argv is None else list(argv)
        self._steps: list[Step] = []

    def start(self) -> None:
        process_info.set_services(self.names)
        # NOTE: only a server's own process (given its arguments) has a reader process, and keeps
        # to one CPU: a test harness running the services in its process must keep every CPU.
        with_reader = self.argv is not None and reader_process.wanted(self.names)
        reader_cpus = cpus.keep_to_one() if with_reader and config.CONF.api.engine_on_one_cpu else frozenset()
        if config.CONF.metrics.port:
            self._steps += _start_metrics_port()
        if "executor" in self.names or ("engine" in self.names and config.CONF.executor.type == "local"):
            self._steps += _start_executor()
        if "engine" in self.names:
            self._steps += _start_engine()
        if "event-engine" in self.names:
            self._steps += _start_event_engine()
        if "notifier" in self.names:
            self._steps += _start_notifier()
        # Last: requests come in only once the services that answer them run.
        if "api" in self.names:
            self._steps += _start_api(self.names, self.argv if with_reader else None, reader_cpus)

    def stop(self, grace: float | None = None) -> None:
        """Stop every service; running actions get ``grace`` seconds ([executor] shutdown_grace)."""
        grace = config.CONF.executor.shutdown_grace if grace is None else grace
        started = time.monotonic()
        deadline = started + grace
        # NOTE: a running expression would hold its service's stop for up to its time limit; cut
        # short, its transaction rolls back and its work is done again after the restart.
        cut = limits.stop_running()
        if cut:
            LOG.info("Stopping: %d running expression evaluations cut short", cut)
        # NOTE: within a phase the reverse start order: the API, started last, stops first.
        steps = sorted(reversed(self._steps), key=lambda step: step.phase)
        self._steps = []
        phase = None
        for step in steps:
            if step.phase != phase:
                phase = step.phase
                LOG.info(
                    "Stopping, phase %s (%.1f s since the stop began)", phase.name, time.monotonic() - started
                )
            try:
                step.run(deadline)
            except Exception:  # noqa: BLE001 - stop the rest whatever one of them does
                LOG.exception("Stopping %s failed", step.name)
        LOG.info("All services stopped in %.1f s", time.monotonic() - started)


def _start_metrics_port() -> list[Step]:
    """This process's series on [metrics] port: what an engine or executor alone has no API for."""
    port = exposition.Port(config.CONF.metrics.host, config.CONF.metrics.port)
    if not port.start():
        return []
    # NOTE: last to stop: a scrape during the stop still sees the final counts.
    return [Step(Phase.ENGINE, "metrics port", lambda deadline: port.stop())]


def _start_executor() -> list[Step]:
    from mistral.executor.executor import Executor
    from mistral.executor.server import ExecutorServer

    host = config.CONF.executor.host or socket.gethostname()
    server = ExecutorServer(Executor(host=host), host=host)
    server.start()
    LOG.info("Executor %s started", server.host)
    return [
        Step(Phase.INTAKE, "executor requests", lambda deadline: server.stop_consuming()),
        Step(Phase.EXECUTOR, "executor", lambda deadline: server.stop(grace=_left(deadline))),
    ]


def _start_engine() -> list[Step]:
    from mistral.engine import cron, recovery, timers  # noqa: F401 - registers the scheduled jobs
    from mistral.engine.engine import get as get_engine
    from mistral.engine.periodic import PeriodicJobs
    from mistral.engine.server import EngineServer
    from mistral.scheduler.scheduler import Scheduler
    from mistral.services import expiration

    recovery.engine_started()
    server = EngineServer(get_engine())
    server.start()
    scheduler = Scheduler()
    scheduler.start()
    periodic = PeriodicJobs([recovery.ensure_scheduled, cron.ensure_scheduled, expiration.ensure_scheduled])
    periodic.start()
    recovery.resend_left_behind()
    LOG.info("Engine started")
    return [
        # NOTE: the job running now may finish; one cut short rolls back and is taken over later.
        Step(
            Phase.INTAKE, "scheduler", lambda deadline: scheduler.stop(timeout=max(_left(deadline), MIN_WAIT))
        ),
        Step(Phase.INTAKE, "periodic jobs", lambda deadline: periodic.stop()),
        Step(Phase.ENGINE, "engine", lambda deadline: server.stop()),
    ]


def _start_event_engine() -> list[Step]:
    from mistral.event_engine.engine import EventEngine

    event_engine = EventEngine()
    event_engine.start()
    LOG.info("Event engine started")
    return [Step(Phase.INTAKE, "event engine", lambda deadline: event_engine.stop())]


def _start_notifier() -> list[Step]:
    from mistral.notifier.delivery import Notifier

    delivery = Notifier()
    delivery.start()
    LOG.info("Notifier %s started", delivery.name)

    def stop(deadline: float) -> None:
        # NOTE: an attempt under way may finish; one cut short is sent again (at-least-once).
        delivery.stop(timeout=max(_left(deadline), MIN_WAIT))

    return [Step(Phase.INTAKE, "notifier", stop)]


def _start_api(
    names: Sequence[str], reader_argv: Sequence[str] | None = None, reader_cpus: frozenset[int] = frozenset()
) -> list[Step]:
    """The API of a process running ``names``; with ``reader_argv``, on a local port behind a reader
    process started with those arguments (on ``reader_cpus``, if any)."""
    from mistral.api import app as api_app
    from mistral.api import server as api_server

    threads = api_server.threads_for(names)
    if reader_argv is None:
        httpd = api_server.make_server(api_app.setup_app(), threads=threads)
    else:
        httpd = api_server.make_server(
            api_app.setup_app(), host=api_server.LOCAL_ONLY, port=0, threads=threads
        )
    httpd.shutdown_timeout = API_DRAIN
    httpd.prepare()
    thread = threading.Thread(target=httpd.serve, name="api", daemon=True)
    thread.start()
    host, port = httpd.bind_addr[:2]
    steps = []
    if reader_argv is None:
        LOG.info("API listening on http://%s:%s/v2", host, port)
    else:
        reader = reader_process.ReaderProcess(reader_argv, backend=f"{host}:{port}", cpus=reader_cpus)
        LOG.info("API listening on http://%s:%s/v2 (reads answered by a reader process)", *reader.start())
        LOG.info("API of the engine's process on http://%s:%s/v2 (requests other than reads)", host, port)
        # NOTE: the reader stops first, so the requests it forwards while draining are still answered.
        steps.append(Step(Phase.INTAKE, "api reader", lambda deadline: reader.stop(API_DRAIN + MIN_WAIT)))

    def stop(deadline: float) -> None:
        # NOTE: cheroot waits without limit for a request it could not cut short; the API
        # threads are daemons, so give up on such a request rather than hold the stop.
        stopper = threading.Thread(target=httpd.stop, name="api-stop", daemon=True)
        stopper.start()
        stopper.join(API_DRAIN + MIN_WAIT)
        thread.join(MIN_WAIT)

    return [Step(Phase.INTAKE, "api", stop), *steps]


class StopSignal:
    """SIGTERM or SIGINT: the first asks for a graceful stop, a second one ends the process at once."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, exit: Callable[[int], object] = os._exit) -> None:
        self._exit = exit
        self._requested = threading.Event()

    def install(self) -> None:
        """Handle the signals (only the main thread may)."""
        for signum in self.SIGNALS:
            signal.signal(signum, self.handle)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._requested.is_set():
            LOG.warning("Signal %s again: exiting at once", signum)
            self._exit(128 + signum)
            return
        LOG.info("Signal %s: stopping gracefully (send it again to exit at once)", signum)
        self._requested.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop was asked for (waits up to ``timeout`` seconds, forever when None)."""
        return self._requested.wait(timeout)


def end_process(code: int) -> NoReturn:
    """Flush the logs and end the process now, whatever threads still run.

    NOTE: Python cannot stop a thread, and a normal interpreter exit joins every
    non-daemon one (the executor's pool workers among them), so an action
    abandoned after the grace would hold the exit until it returned.
    """
    logging.shutdown()
    os._exit(code)
