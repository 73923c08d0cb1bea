"""How long a deployment's PostgreSQL sessions stood waiting for locks during a workload.

NOTE (issue 14): "lock waits must not grow with the number of engines" had no figure, and
PostgreSQL keeps no running total of the time its sessions wait for locks. A ``psql`` of
our own (no database driver in the benchmark) reads ``pg_stat_activity`` every
``INTERVAL_S`` with ``\\watch``: a session whose ``wait_event_type`` is ``Lock`` waits for a
row, transaction or table lock, as an engine's ``SELECT ... FOR UPDATE`` on a workflow row
that another engine's transaction holds. Waiting sessions times the time to the next sample,
summed, estimates the seconds spent waiting; a wait shorter than the interval is caught in
proportion to its length, so over the thousands of hops of a workload the sum is unbiased.
The reference runs on the same database server and is measured the same way.
"""

from __future__ import annotations

import dataclasses
import itertools
import signal
import subprocess
import threading
from collections.abc import Iterable
from typing import Any

from bench import deploy

#: Seconds between samples: a hop is a few milliseconds, a workload seconds.
INTERVAL_S = 0.02
#: Seconds ``stop`` gives psql to end once interrupted, and its reader thread after that.
STOP_WAIT_S = 5.0
#: Seconds ``start`` waits for psql's first sample before the workload goes on unsampled at first.
FIRST_SAMPLE_WAIT_S = 5.0


@dataclasses.dataclass(frozen=True)
class LockWaits:
    """What the samples of one workload saw."""

    #: estimated session-seconds spent waiting for locks
    wait_s: float
    #: most sessions waiting at once in one sample
    most_waiting: int
    #: most sessions on the database in one sample (waiting or not): what the samples could see
    most_sessions: int
    samples: int
    #: seconds from the first sample to the last
    span_s: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def sampling_sql(database: str) -> str:
    """A sample a line, ``epoch seconds|sessions waiting for a lock|sessions``, of those on ``database``."""
    literal = "'" + database.replace("'", "''") + "'"
    return (
        "SELECT extract(epoch FROM clock_timestamp()), "
        "count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) "
        f"FROM pg_stat_activity WHERE datname = {literal} AND pid <> pg_backend_pid() "
        f"\\watch {INTERVAL_S}\n"
    )


def summarize(lines: Iterable[str]) -> LockWaits | None:
    """The lock waits of psql's sample lines (others are skipped); None without two samples."""
    samples: list[tuple[float, int, int]] = []
    for line in lines:
        parts = line.strip().split("|")
        if len(parts) != 3:
            continue
        try:
            samples.append((float(parts[0]), int(parts[1]), int(parts[2])))
        except ValueError:
            continue
    if len(samples) < 2:
        return None
    wait_s = sum(waiting * (later[0] - at) for (at, waiting, _), later in itertools.pairwise(samples))
    return LockWaits(
        wait_s=round(wait_s, 4),
        most_waiting=max(waiting for _, waiting, _ in samples),
        most_sessions=max(sessions for _, _, sessions in samples),
        samples=len(samples),
        span_s=round(samples[-1][0] - samples[0][0], 3),
    )


class Sampler:
    """``psql`` sampling ``database``'s lock waits from ``start`` to ``stop``."""

    def __init__(self, admin_url: str, database: str) -> None:
        # NOTE: -X: a ~/.psqlrc (\timing, a prompt) would change the lines parsed here.
        self._argv = deploy.psql_session_argv(admin_url) + ["-X", "-A", "-t"]
        self._database = database
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self) -> bool:
        """Start sampling, and return once psql has taken its first sample (or ended, or
        ``FIRST_SAMPLE_WAIT_S`` passed); False when psql cannot be started (``stop`` then answers None)."""
        try:
            self._proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return False
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(sampling_sql(self._database))
            self._proc.stdin.close()  # \watch runs until psql is stopped
        except BrokenPipeError:
            pass  # psql has ended already (refused): nothing is sampled, and ``stop`` answers None
        stdout = self._proc.stdout
        sampling = threading.Event()

        def read() -> None:
            for text in stdout:
                self._lines.append(text)
                sampling.set()
            sampling.set()  # psql ended (refused, stopped): nothing to wait for

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        # NOTE: psql connects before it samples, over 0.5 s on a loaded machine: a workload started
        # sooner would lose its first waits (a test measured 0.28 s of a 0.6 s wait so).
        sampling.wait(FIRST_SAMPLE_WAIT_S)
        return True

    def stop(self) -> LockWaits | None:
        """Stop sampling and summarize; None when psql sampled nothing (not running, refused, too short)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        # NOTE: SIGINT is how a \watch is ended (Ctrl-C); psql then exits at the end of its input.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(STOP_WAIT_S)
        return summarize(self._lines)


def line(waits: LockWaits) -> str:
    return (
        f"    PostgreSQL lock waits: {waits.wait_s:.3f} s over {waits.span_s:.1f} s "
        f"(at most {waits.most_waiting} of {waits.most_sessions} sessions waiting at once; "
        f"{waits.samples} samples, every {INTERVAL_S * 1000:.0f} ms)"
    )
