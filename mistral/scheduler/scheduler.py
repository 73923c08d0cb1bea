"""The loop that runs due jobs, safe with many engines polling one table.

A job's life: listed as due, claimed by one scheduler (atomic update of
``captured_at``, committed at once so others see it), then deleted and run
in one transaction. If the function fails, that transaction rolls back, the
row comes back still claimed by us, and we release it for a later retry. If
the process dies mid-run, nothing of the run committed and the claim goes
stale: another scheduler takes the job over after ``captured_job_timeout``.

No job is dropped silently (architecture rule 10). A run failing on a transient
database error is released again with capped backoff, forever: the database
will come back and the job is still right. Any other failure counts toward
``[scheduler] max_attempts``; then the job's give-up handler ends the work it
stood for (a task fails with the reason), in one transaction with the job's
deletion. A job whose release or give-up cannot be written stays claimed,
and is taken over after ``captured_job_timeout`` like a dead scheduler's.
"""

from __future__ import annotations

import datetime
import heapq
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from mistral import config, context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.metrics import series
from mistral.scheduler import jobs

LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]


class Scheduler:
    def __init__(
        self,
        clock: Clock = utcnow,
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 60.0,
    ) -> None:
        self._clock = clock
        # NOTE: a failed job waits retry_delay * 2**(attempt-1) seconds, capped,
        # so a job failing on a briefly missing resource does not spin.
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: due times of jobs this process scheduled or released (a heap): the idle loop wakes for them
        self._local_due: list[datetime.datetime] = []
        self._due_lock = threading.Lock()
        self._woken = threading.Event()

    # -- one look --------------------------------------------------------

    def run_once(self) -> int:
        """Run the jobs due now, one after another; return how many this scheduler claimed."""
        conf = config.CONF.scheduler
        timeout = conf.captured_job_timeout
        claimed = 0
        for job in db_api.run_with_retry(db_api.list_due_jobs, self._clock(), conf.batch_size, timeout):
            claimed_at = self._clock()
            if not db_api.run_with_retry(db_api.claim_scheduled_job, job.id, claimed_at, timeout):
                continue  # another scheduler won it
            claimed += 1
            lag = (claimed_at - job.run_after).total_seconds()
            series.SCHEDULER_LAG.labels(job.func_name).observe(max(lag, 0.0))
            self._run(job, claimed_at)
        return claimed

    def _run(self, job: Any, claimed_at: datetime.datetime) -> None:
        func = jobs.get(job.func_name)
        if func is None:
            LOG.error("Dropping scheduled job %s: no function registered as %r", job.id, job.func_name)
            self._write(job, db_api.delete_scheduled_job, job.id, claimed_at=claimed_at)
            return
        args = dict(job.func_args or {})
        attempts = int(args.pop(db_api.ATTEMPTS_KEY, 0))
        transient = int(args.pop(db_api.TRANSIENT_FAILURES_KEY, 0))
        try:
            db_api.run_with_outside_work(self._run_in_transaction, job, claimed_at, func, args)
        except Exception as exc:
            if db_api.is_transient(exc):
                self._retry_transient(job, claimed_at, attempts, transient + 1, exc)
                return
            LOG.exception("Scheduled job %s (%s) failed, attempt %d", job.id, job.func_name, attempts + 1)
            self._retry_or_give_up(job, claimed_at, args, attempts + 1, exc)

    @staticmethod
    def _run_in_transaction(job: Any, claimed_at: datetime.datetime, func: Callable[..., Any],
                            args: dict[str, Any]) -> None:  # fmt: skip
        with context.using(context.Context.from_dict(job.context or {})), db_api.transaction():
            # NOTE: delete first, in the job's own transaction: the deletion
            # commits iff the job's writes do, and a job may re-schedule
            # itself under its own key without its new row being deleted.
            if not db_api.delete_scheduled_job(job.id, claimed_at=claimed_at):
                LOG.warning("Scheduled job %s was taken over by another scheduler; skipping it", job.id)
                return
            func(**args)

    def _backoff(self, failures: int) -> float:
        return min(self._retry_delay * 2 ** (failures - 1), self._max_retry_delay)

    def _retry_transient(
        self, job: Any, claimed_at: datetime.datetime, attempts: int, transient: int, exc: Exception
    ) -> None:
        """Run it again later, however often: the failure was the database's, not the job's."""
        backoff = self._backoff(transient)
        LOG.warning(
            "Scheduled job %s (%s) failed on a transient database error (%d in a row); "
            "running it again in %g s: %s",
            job.id, job.func_name, transient, backoff, exc,
        )  # fmt: skip
        self._release(job, claimed_at, backoff, attempts, transient)

    def _retry_or_give_up(
        self, job: Any, claimed_at: datetime.datetime, args: dict[str, Any], attempts: int, exc: Exception
    ) -> None:
        if attempts < config.CONF.scheduler.max_attempts:
            self._release(job, claimed_at, self._backoff(attempts), attempts, 0)
            return
        handler = jobs.get_give_up_handler(job.func_name)
        if handler is None:
            LOG.error(
                "Dropping scheduled job %s (%s) after %d failed attempts", job.id, job.func_name, attempts
            )
            self._write(job, db_api.delete_scheduled_job, job.id, claimed_at=claimed_at)
            return
        give_up = jobs.GiveUp(job.id, job.func_name, args, f"{type(exc).__name__}: {exc}", attempts)
        try:
            db_api.run_with_retry(self._give_up, job, claimed_at, handler, give_up)
        except Exception:
            # NOTE: keep the job rather than lose what it stood for: it runs
            # (and may be given up) again after the longest backoff.
            LOG.exception("Give-up handler of scheduled job %s (%s) failed; it runs again in %g s",
                          job.id, job.func_name, self._max_retry_delay)  # fmt: skip
            self._release(job, claimed_at, self._max_retry_delay, attempts, 0)

    def _give_up(
        self, job: Any, claimed_at: datetime.datetime, handler: jobs.GiveUpHandler, give_up: jobs.GiveUp
    ) -> None:
        """The handler's writes and the job's deletion commit together: given up exactly once."""
        LOG.error("Giving up scheduled job %s (%s) after %d failed attempts: %s",
                  job.id, job.func_name, give_up.attempts, give_up.error)  # fmt: skip
        with context.using(context.Context.from_dict(job.context or {})), db_api.transaction():
            if not db_api.delete_scheduled_job(job.id, claimed_at=claimed_at):
                LOG.warning("Scheduled job %s was taken over by another scheduler; not giving it up", job.id)
                return
            handler(give_up)

    def _release(
        self, job: Any, claimed_at: datetime.datetime, backoff: float, attempts: int, transient: int
    ) -> None:
        run_after = self._clock() + datetime.timedelta(seconds=backoff)
        self._write(job, db_api.release_scheduled_job, job.id, run_after, attempts,
                    claimed_at=claimed_at, transient_failures=transient)  # fmt: skip
        self._scheduled(run_after)

    def _write(self, job: Any, write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Write the job's next state, retried; if that still fails the claim goes stale and is taken over."""
        try:
            db_api.run_with_retry(write, *args, **kwargs)
        except Exception:
            LOG.exception("Could not update scheduled job %s (%s); it stays claimed and runs again after "
                          "[scheduler] captured_job_timeout", job.id, job.func_name)  # fmt: skip

    # -- the background loop ---------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        jobs.listen(self._scheduled)
        self._thread = threading.Thread(target=self._loop, name="mistral-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the loop; the job running now, if any, finishes first."""
        jobs.unlisten(self._scheduled)
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _scheduled(self, run_after: datetime.datetime) -> None:
        """A job of this process is due at ``run_after``: an idle loop wakes for it."""
        with self._due_lock:
            heapq.heappush(self._local_due, run_after)
        self._woken.set()

    def _loop(self) -> None:
        conf = config.CONF.scheduler
        pause = conf.fixed_delay
        while not self._stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:
                # NOTE: e.g. the database is briefly unreachable; keep polling.
                LOG.exception("Scheduler loop failed; retrying")
                claimed = 0
            pause = self._next_pause(claimed, pause)
            self._wait(pause + random.uniform(0, conf.random_delay))

    @staticmethod
    def _next_pause(claimed: int, pause: float) -> float:
        """No pause after a full batch (more are likely due); the pause doubles while looks find nothing.

        NOTE (issue 14): ten looks a second cost an idle engine about 15 ms of CPU a second, and a
        busy one its interpreter lock ten times a second; the jobs of this process wake the loop.
        """
        conf = config.CONF.scheduler
        if claimed >= conf.batch_size:
            return 0.0
        if claimed:
            return conf.fixed_delay
        return min(max(pause * 2, conf.fixed_delay), max(conf.idle_delay, conf.fixed_delay))

    def _wait(self, pause: float) -> None:
        """Sleep ``pause`` seconds, or less: until a job of this process falls due, or at once if one has."""
        deadline = time.monotonic() + pause
        while not self._stop.is_set():
            # NOTE: cleared before reading the due times, so a job scheduled after the read wakes the wait.
            self._woken.clear()
            remaining = deadline - time.monotonic()
            until_due = self._until_local_due()
            if until_due is not None:
                remaining = min(remaining, until_due)
            if remaining <= 0:
                return
            self._woken.wait(remaining)

    def _until_local_due(self) -> float | None:
        """Seconds until the next job of this process is due (0: one is due already), or None."""
        now = self._clock()
        with self._due_lock:
            passed = False
            while self._local_due and self._local_due[0] <= now:
                heapq.heappop(self._local_due)
                passed = True
            if passed:
                return 0.0
            return (self._local_due[0] - now).total_seconds() if self._local_due else None
