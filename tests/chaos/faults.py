"""The faults of one trial: which processes die when and for how long, and when the database drops them."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from tests.integration.cluster import Cluster

VICTIMS = ("api", "engine", "engine-b", "exec-a", "exec-b")
EXECUTORS = ("exec-a", "exec-b")
#: How long a restarted process may take to say it is up before the trial calls it a crash.
UP_TIMEOUT = 60.0


@dataclass
class Kill:
    at: float  # seconds after the trial's executions were started
    victims: tuple[str, ...]
    down_for: float  # seconds between the SIGKILL and the restart
    # filled in while the trial runs (seconds after the trial start):
    killed_at: float | None = None
    restarted_at: float | None = None
    up_at: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        up = ", ".join(f"{n} up +{t - (self.restarted_at or 0):.1f}s" for n, t in self.up_at.items())
        at = self.killed_at if self.killed_at is not None else self.at
        return f"t={at:.1f}s SIGKILL {'+'.join(self.victims)}, restart after {self.down_for:.1f}s ({up})"


@dataclass
class PgTerminate:
    at: float
    terminated: int | None = None
    done_at: float | None = None
    error: str | None = None

    def describe(self) -> str:
        at = self.done_at if self.done_at is not None else self.at
        return f"t={at:.1f}s pg_terminate_backend x{self.terminated}"


@dataclass
class Plan:
    kill: Kill
    pg: PgTerminate

    @property
    def executor_kills(self) -> int:
        return sum(1 for v in self.kill.victims if v in EXECUTORS)

    @classmethod
    def draw(cls, rng: random.Random, window: float) -> Plan:
        """A random kill (two processes one time in four) and a backend purge, both within ``window`` s."""
        count = 2 if rng.random() < 0.25 else 1
        victims = tuple(sorted(rng.sample(VICTIMS, count)))
        kill = Kill(
            at=round(rng.uniform(0.3, window), 2), victims=victims, down_for=round(rng.uniform(1, 3), 2)
        )
        return cls(kill, PgTerminate(at=round(rng.uniform(0.3, window), 2)))

    def describe(self) -> str:
        return f"{self.kill.describe()}; {self.pg.describe()}"


class Injector:
    """Carries out a plan in two threads, measuring from ``t0`` (time.monotonic())."""

    def __init__(self, cluster: Cluster, admin: sa.Engine, db_name: str, plan: Plan, t0: float) -> None:
        self.cluster, self.admin, self.db_name, self.plan, self.t0 = cluster, admin, db_name, plan, t0
        self._threads = [
            threading.Thread(target=self._kill, name="chaos-kill", daemon=True),
            threading.Thread(target=self._purge, name="chaos-pg", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.01))

    @property
    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    def _now(self) -> float:
        return time.monotonic() - self.t0

    def _sleep_until(self, at: float) -> None:
        time.sleep(max(at - self._now(), 0))

    def _kill(self) -> None:
        kill = self.plan.kill
        self._sleep_until(kill.at)
        procs = [self.cluster.processes[name] for name in kill.victims]
        for proc in procs:  # SIGKILL first, wait after: two victims die together
            if proc.popen is not None and proc.popen.poll() is None:
                proc.popen.kill()
        kill.killed_at = self._now()
        for proc in procs:
            proc.kill()  # reaps
        time.sleep(kill.down_for)
        offsets = {}
        for proc in procs:
            offsets[proc.name] = proc.log.stat().st_size if proc.log.exists() else 0
            proc.start()
        kill.restarted_at = self._now()
        for proc in procs:
            try:
                wait_up(self.cluster, proc.name, offsets[proc.name])
                kill.up_at[proc.name] = self._now()
            except AssertionError as error:
                kill.errors.append(f"{proc.name} did not come back: {error}")

    def _purge(self) -> None:
        pg = self.plan.pg
        self._sleep_until(pg.at)
        try:
            with self.admin.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": self.db_name},
                ).all()
            pg.terminated = sum(1 for (ok,) in rows if ok)
        except sa.exc.SQLAlchemyError as error:
            pg.error = str(error)[:200]
        pg.done_at = self._now()


def up_marker(name: str) -> str | None:
    if name.startswith("engine"):
        return "Engine started"
    if name in EXECUTORS:
        return f"Executor {name} listening"
    return None


def wait_up(cluster: Cluster, name: str, offset: int, timeout: float = UP_TIMEOUT) -> None:
    """Until the restarted process says it is up (in its log after ``offset``), or answers HTTP (api)."""
    proc = cluster.processes[name]
    marker = up_marker(name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        if marker is None:
            try:
                if requests.get(cluster.v2, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        else:
            with open(proc.log, "rb") as log:
                log.seek(offset)
                if marker.encode() in log.read():
                    return
        time.sleep(0.1)
    raise AssertionError(f"{name} not up after {timeout:.0f} s")
