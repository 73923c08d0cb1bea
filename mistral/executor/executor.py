"""The executor: runs actions in a worker pool and reports their results to the engine.

The same class serves a separate executor service (results go to the engine
over RPC) and the engine's own ``[executor] type = local`` mode (results go to
an injected callable).

NOTE on timeouts: Python cannot stop a thread, so an action that overruns its
``timeout`` is reported as failed and forgotten, but its thread keeps running
(and keeps its pool slot) until ``run()`` returns; what it returns then is
dropped. The timeout counts from the moment the action starts, not from when
it was queued.
"""

from __future__ import annotations

import collections
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mistral import context
from mistral.actions import async_results, registry
from mistral.config import CONF
from mistral.executor import invocation
from mistral.executor.batcher import ResultBatcher, Sink
from mistral.executor.routing import ResultRouter
from mistral.metrics import series
from mistral.rpc import clients
from mistral.rpc.payloads import ACCEPTS_HANDED
from mistral.utils import log_ids

LOG = logging.getLogger(__name__)

#: ``executor``: the Executor whose finished job this pool thread reports now (``_run_pooled``); it
#: takes the next job of that executor's backlog itself a moment later (``_drain``).
_reporting = threading.local()

#: Receives action execution ids: heartbeats, actions given back.
IdsSink = Callable[[list[str]], None]


def _release_to_engine(host: str | None, action_ex_ids: list[str]) -> None:
    clients.engine().release_actions(
        action_ex_ids, executor=host or "", timeout=CONF.executor.engine_confirm_timeout
    )


def _heartbeat_to_engine(host: str | None, action_ex_ids: list[str]) -> None:
    clients.engine().report_running_actions(action_ex_ids, executor=host)


def _routed(result: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` with where it belongs: the engine that sent it, and its workflow execution.

    NOTE: an engine applies the results of one workflow execution in one applier lane
    (see mistral.engine.applier); an id that is missing or wrong only costs a wait.
    """
    wf_ex_id = (request.get("context") or {}).get("workflow_execution_id")
    routes = {"workflow_execution_id": wf_ex_id, "reply_to": request.get("reply_to")}
    return {**result, **{k: v for k, v in routes.items() if v}}


def _observe_duration(result: Mapping[str, Any] | None, seconds: float) -> None:
    """How long an action ran, by how it ended (an asynchronous one: until it started, RUNNING)."""
    if result is None or result.get("started"):
        state = "RUNNING"
    elif "error" in result:
        state = "ERROR"
    elif result.get("cancel"):
        state = "CANCELLED"
    else:
        state = "SUCCESS"
    series.action_duration(state).observe(seconds)


class _Job:
    """One accepted request; exactly one of its worker and its timer gets to finish it."""

    __slots__ = ("request", "done", "timer", "context")

    def __init__(self, request: Mapping[str, Any]) -> None:
        self.request = request
        self.done = False
        self.timer: threading.Timer | None = None
        #: the accepting caller's context: the worker must see the requester's security context
        self.context = contextvars.copy_context()

    @property
    def action_ex_id(self) -> str | None:
        return self.request.get("action_ex_id")


class Executor:
    """Runs actions and reports ``{"action_ex_id", "data"|"error"|"cancel"}`` results in batches.

    ``report`` receives each batch of results and ``heartbeat`` the ids of the
    actions still running; both default to the engine's RPC client. The other
    arguments override their ``[executor]`` and ``[action_heartbeat]`` options.
    """

    def __init__(
        self,
        report: Sink | None = None,
        heartbeat: IdsSink | None = None,
        release: IdsSink | None = None,
        *,
        max_workers: int | None = None,
        flush_interval: float | None = None,
        heartbeat_interval: float | None = None,
        host: str | None = None,
    ) -> None:
        self._max_workers = max_workers or CONF.executor.max_workers
        interval = CONF.executor.results_flush_interval if flush_interval is None else flush_interval
        self._host = host
        self._report = report or ResultRouter(self._report_to_engine)
        self._batcher = ResultBatcher(
            self._report,
            interval,
            max_retry_delay=CONF.executor.result_retry_max_delay,
        )
        self._heartbeat = heartbeat or functools.partial(_heartbeat_to_engine, host)
        self._release_sink = release or functools.partial(_release_to_engine, host)
        #: taken here, cancelled before they started (the executor is stopping): given back on stop
        self._never_started: list[str] = []
        self._heartbeat_interval = (
            CONF.action_heartbeat.check_interval if heartbeat_interval is None else heartbeat_interval
        )
        # Reentrant: a future that is already done runs its callback in the submitting thread.
        self._lock = threading.RLock()
        # Accepted and not finished, queued ones included: they are ours, not lost.
        self._running: collections.Counter[str] = collections.Counter()
        self._pool: ThreadPoolExecutor | None = None
        # NOTE: accepted jobs wait here, not as pool tasks: a pool task (its future, condition and
        # work item) per action of a 10000-item with-items cost more memory than the request itself
        # and time per action. At most ``max_workers`` pool tasks each run jobs until none is left.
        self._backlog: collections.deque[_Job] = collections.deque()
        self._drainers = 0
        # NOTE: one child per executor host, looked up once: an increment per action, no lookup.
        self._queued_gauge = series.ACTIONS_QUEUED.labels(host or "local")
        self._running_gauge = series.ACTIONS_RUNNING.labels(host or "local")
        self._stopped = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None

    @property
    def running_ids(self) -> list[str]:
        """Ids of the actions accepted here and not finished yet."""
        with self._lock:
            return sorted(self._running)

    def start(self) -> None:
        with self._lock:
            if self._pool is not None:
                return
            # Discover the actions now rather than on the first request's clock.
            registry.load_system_actions()
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="executor")
            self._stopped.clear()
            self._batcher.start()
            async_results.install(self._complete_async)
            if self._heartbeat_interval and self._heartbeat_interval > 0:
                self._heartbeat_thread = threading.Thread(
                    target=self._send_heartbeats, name="executor-heartbeat", daemon=True
                )
                self._heartbeat_thread.start()

    def stop(self, wait: bool = True, *, grace: float | None = None) -> None:
        """Stop taking work and send every buffered result.

        With ``wait`` the actions already accepted run to the end and are
        reported; without, queued ones are dropped (the engine's heartbeat check
        finds them) and running ones report whenever they finish. A ``grace``
        (seconds) overrides ``wait``: queued actions are dropped, running ones
        get until then to finish and be reported, and those still running are
        abandoned and logged.
        """
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        if grace is None:
            if not wait:
                self._drop_backlog()
            pool.shutdown(wait=wait)
        else:
            self._drop_backlog()
            pool.shutdown(wait=False)
            self._wait_for_workers(pool, time.monotonic() + max(grace, 0.0))
        self._stopped.set()
        async_results.uninstall(self._complete_async)
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join()
            self._heartbeat_thread = None
        self._batcher.stop()
        self._give_back()

    def _complete_async(self, action_ex_id: str, outcome: dict[str, Any], wf_ex_id: str | None) -> None:
        """An asynchronous action that finished on its own: its result, sent now and confirmed.

        NOTE: not through the batcher: the caller acknowledges its source (a queue message) only
        once an engine has committed the result, and tries again later when this raises.
        """
        result = {"action_ex_id": action_ex_id, **{k: invocation.json_safe(v) for k, v in outcome.items()}}
        if wf_ex_id:
            result["workflow_execution_id"] = wf_ex_id
        self._report([result])

    def _report_to_engine(self, results: list[dict[str, Any]], engine: str | None) -> None:
        if self._host:
            # NOTE: a stopping executor takes no more actions: its results ask for none.
            mark = {"executor": self._host, **({ACCEPTS_HANDED: True} if self._pool is not None else {})}
            results = [{**r, **mark} for r in results]
        # Looked up per call so a reset RPC client (tests, reconnects) is picked up.
        answer = clients.engine().on_action_results(
            results, timeout=CONF.executor.engine_confirm_timeout, server=engine
        )
        self._run_handed((answer or {}).get("handed") or [])

    def _run_handed(self, groups: list[dict[str, Any]]) -> None:
        """Actions the engine took for this executor in its answer to our results: run them, no take.

        NOTE: they are ours already, and the results that brought them are confirmed, so nothing
        here may fail the report: sent again, those results would be handed the same actions again.
        Those the executor cannot run because it stopped meanwhile go back at once, as those it
        took and never started (stop may have given back its own already).
        """
        for group in groups:
            requests = group.get("requests") or []
            try:
                with context.using(context.Context.from_dict(group.get("context") or {})):
                    self.run_actions(requests)
            except RuntimeError:
                with self._lock:
                    self._never_started += [r["action_ex_id"] for r in requests]
                self._give_back()
            except Exception:  # noqa: BLE001 - they stay taken: the heartbeat check re-runs or fails them
                LOG.exception("Could not run %d handed actions", len(requests))

    def never_started(self, action_ex_ids: list[str]) -> None:
        """Actions that may have been taken for this executor and will not run here: given back at stop."""
        with self._lock:
            self._never_started += action_ex_ids

    def _give_back(self) -> None:
        """Actions taken here that never started go back to the engine, to run elsewhere at once."""
        with self._lock:
            ids, self._never_started = self._never_started, []
        if not ids:
            return
        try:
            self._release_sink(ids)
            LOG.info("Gave back %d actions that never started: %s", len(ids), ids)
        except Exception:  # noqa: BLE001 - they stay taken: the heartbeat check re-runs or fails them
            LOG.exception("Could not give back %d actions that never started: %s", len(ids), ids)

    def _wait_for_workers(self, pool: ThreadPoolExecutor, deadline: float) -> None:
        # NOTE: shutdown(wait=True) joins the pool's threads with no time limit;
        # this is the same join with one. A worker ends only after its action's
        # result is in the batcher, so a joined pool leaves no result behind.
        for thread in list(pool._threads):
            thread.join(max(deadline - time.monotonic(), 0.0))
        abandoned = self.running_ids
        if abandoned:
            LOG.warning(
                "%d actions still running after the shutdown grace are abandoned: %s",
                len(abandoned),
                abandoned,
            )

    def run_actions(self, requests: Sequence[Mapping[str, Any]]) -> None:
        """Queue each request to run in the pool; results are reported as they finish."""
        with self._lock:
            if self._pool is None:
                raise RuntimeError("Executor is not running")
            # NOTE: counted for the whole batch at once, before any of its results can come back.
            self._queued_gauge.inc(len(requests))
            self._batcher.expect(len(requests))
            for request in requests:
                job = _Job(request)
                self._accept(job)
                self._backlog.append(job)
            # NOTE: a pool task of ours asking (a result's answer handed it the chain's next action)
            # takes the first job itself when its own returns, a moment later: waking another
            # thread for it added a hand-over between threads to every hop of a chain.
            own = 1 if getattr(_reporting, "executor", None) is self else 0
            # NOTE: a new pool task gets its first job now: handed to a worker, it counts as started.
            for _ in range(min(self._max_workers - self._drainers, len(self._backlog) - own)):
                self._drainers += 1
                self._pool.submit(self._drain, self._backlog.popleft())

    def run_action_sync(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Run one action in the calling thread and return its result dict (no batching).

        An async action has no result yet: the answer is ``{"action_ex_id", "async": True}``.
        """
        job = _Job(request)
        with self._lock:
            self._accept(job)
        self._running_gauge.inc()
        started = time.monotonic()
        try:
            result = self._invoke_with_timeout(job)
        finally:
            self._running_gauge.dec()
            with self._lock:
                self._release(job)
        _observe_duration(result, time.monotonic() - started)
        if result is None:
            return {"action_ex_id": job.action_ex_id, "async": True}
        return result

    def _run_pooled(self, job: _Job) -> None:
        self._queued_gauge.dec()
        self._running_gauge.inc()
        started = time.monotonic()
        ids = job.request.get("context") or {}
        exec_token = log_ids.set_execution(ids.get("workflow_execution_id"))
        task_token = log_ids.set_task(ids.get("task_execution_id"))
        try:
            timeout = job.request.get("timeout")
            if timeout:
                job.timer = threading.Timer(float(timeout), self._time_out, (job,))
                job.timer.daemon = True
                job.timer.start()
            try:
                result = self._invoke(job)
            except BaseException as exc:  # noqa: B036 - a result must leave even for SystemExit
                result = invocation.error_result(job.action_ex_id, invocation.describe_exception(exc))
            self._running_gauge.dec()
            _observe_duration(result, time.monotonic() - started)
            _reporting.executor = self
            try:
                self._finish(job, result)
            finally:
                _reporting.executor = None
        finally:
            log_ids.reset_task(task_token)
            log_ids.reset_execution(exec_token)

    def _drain(self, job: _Job) -> None:
        """A pool task: run ``job``, then the backlog's jobs, each in its requester's context."""
        while True:
            try:
                job.context.run(self._run_pooled, job)
            except Exception:  # noqa: BLE001 - the next jobs must still run
                LOG.exception("Running action execution %s failed", job.action_ex_id)
            with self._lock:
                if not self._backlog:
                    self._drainers -= 1
                    return
                job = self._backlog.popleft()

    def _drop_backlog(self) -> None:
        """Jobs dropped by a stop before they started: no longer ours, so heartbeats stop and the
        engine's check can rerun or fail them (they are given back on stop)."""
        with self._lock:
            dropped, self._backlog = self._backlog, collections.deque()
            for job in dropped:
                self._release(job)
                if job.action_ex_id:
                    self._never_started.append(job.action_ex_id)
        if dropped:
            self._queued_gauge.dec(len(dropped))
            self._batcher.forget(len(dropped))

    def _time_out(self, job: _Job) -> None:
        timeout = float(job.request["timeout"])
        LOG.warning("Action %s [id=%s] timed out", job.request.get("action_name"), job.action_ex_id)
        self._finish(
            job, invocation.error_result(job.action_ex_id, f"Action timed out after {timeout:g} seconds")
        )

    def _finish(self, job: _Job, result: dict[str, Any] | None) -> None:
        with self._lock:
            if job.done:
                return  # the timer already answered for it
            self._release(job)
        if job.timer is not None:
            job.timer.cancel()
        if result is None and job.action_ex_id in async_results.held_ids():
            # NOTE: an async action that finishes here (std.amqp_wait) stays ours: no "started",
            # heartbeats go on until its own thread reports (mistral.actions.async_results).
            self._batcher.forget()
            return
        if result is None:
            # NOTE: an async action has started; its result comes later through the API.
            # The engine hears of the start as surely as of a result: until then the
            # action may have died with this executor before it ever began.
            result = invocation.started_result(job.action_ex_id)
        self._batcher.add(_routed(result, job.request))

    def _invoke(self, job: _Job) -> dict[str, Any] | None:
        return invocation.invoke(job.request, context.current().to_dict())

    def _invoke_with_timeout(self, job: _Job) -> dict[str, Any] | None:
        timeout = job.request.get("timeout")
        if not timeout:
            return self._invoke(job)
        # A helper thread is the only way to stop waiting for a Python call.
        box: list[dict[str, Any] | None] = []
        runner = threading.Thread(
            target=contextvars.copy_context().run, args=(lambda: box.append(self._invoke(job)),), daemon=True
        )
        runner.start()
        runner.join(float(timeout))
        if runner.is_alive():
            return invocation.error_result(
                job.action_ex_id, f"Action timed out after {float(timeout):g} seconds"
            )
        return box[0] if box else invocation.error_result(job.action_ex_id, "Action ended without a result")

    def _accept(self, job: _Job) -> None:
        # Caller holds self._lock.
        if job.action_ex_id:
            self._running[job.action_ex_id] += 1

    def _release(self, job: _Job) -> None:
        # Caller holds self._lock.
        job.done = True
        if job.action_ex_id:
            self._running[job.action_ex_id] -= 1
            if self._running[job.action_ex_id] <= 0:
                del self._running[job.action_ex_id]

    def _send_heartbeats(self) -> None:
        while not self._stopped.wait(self._heartbeat_interval):
            # NOTE: an action whose result no engine has confirmed is still ours.
            ids = sorted({*self.running_ids, *self._batcher.unconfirmed_ids, *async_results.held_ids()})
            if not ids:
                continue
            try:
                self._heartbeat(ids)
            except Exception:
                # The next beat may get through; missing a few is what the engine tolerates.
                LOG.exception("Could not report %d running actions", len(ids))
