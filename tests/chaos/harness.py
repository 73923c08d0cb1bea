"""The crash-trial harness: one cluster, many trials, a report (see tests/chaos/__init__.py for the rules)."""

from __future__ import annotations

import collections
import dataclasses
import json
import pathlib
import queue
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

import sqlalchemy as sa
from mistralclient.api import base as client_base

from tests.chaos import checks, faults
from tests.chaos.checks import Observed, Problem
from tests.chaos.sideeffects import SideEffectServer
from tests.chaos.workflows import MIX, definitions
from tests.integration import cluster as cluster_mod
from tests.integration.cluster import Cluster, Rabbit

T = TypeVar("T")

#: Short fault detection, so that a trial ends in seconds (names and ranges: mistral/config.py).
OPTIONS: dict[str, dict[str, Any]] = {
    "action_heartbeat": {"check_interval": 1, "max_missed_heartbeats": 5, "first_heartbeat_timeout": 15},
    "engine": {"execution_integrity_check_delay": 3, "results_apply_timeout": 4, "recovery_interval": 1},
    "executor": {"engine_confirm_timeout": 5, "result_retry_max_delay": 1, "shutdown_grace": 2},
    "scheduler": {"captured_job_timeout": 5},
}
POLL = 0.5
#: Trials with problems whose log tails are printed (the log lines naming the problem always are).
TAILS_SHOWN = 3


@dataclass
class Settings:
    trials: int = 50
    seed: int = 0
    #: executions of each workflow of the mix per trial
    per_kind: int = 2
    keep_going: bool = False
    #: an execution not terminal this many seconds after the last restart is stuck
    stuck_after: float = 60.0
    #: faults happen within this many seconds of the trial's start
    fault_window: float = 5.0
    #: seconds between std.mistral_http calling the hook and the harness completing the action
    async_delay: float = 5.0
    #: mean seconds the side-effect server takes to answer a call (after counting it)
    action_time: float = 1.0
    #: seconds to wait after the last execution ended, for late duplicates, before counting
    settle: float = 2.0
    workdir: pathlib.Path | None = None
    admin_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
    rabbit_url: str = cluster_mod.RABBIT_URL


@dataclass
class TrialResult:
    number: int
    plan: faults.Plan
    problems: list[Problem] = field(default_factory=list)
    executions: int = 0
    duration: float = 0.0
    #: seconds after the trial start when every execution was terminal (None: some never were)
    terminal_at: float | None = None
    observed: list[Observed] = field(default_factory=list)

    def count(self, category: str) -> int:
        return sum(1 for p in self.problems if p.category == category)

    @property
    def explained_errors(self) -> int:
        """Executions in ERROR that the rules accept (an executor kill failed a silent action)."""
        return sum(1 for seen in self.observed if checks.explained(seen, self.plan.executor_kills))

    def recovery(self) -> dict[str, float | None]:
        """Per restarted process: seconds from it being up again to every execution being terminal."""
        up = self.plan.kill.up_at
        return {
            name: (self.terminal_at - up[name]) if (self.terminal_at is not None and name in up) else None
            for name in self.plan.kill.victims
        }


class Completer:
    """Completes std.mistral_http actions through the API a moment after their hook was called."""

    def __init__(self, client: Callable[[], Any], delay: float) -> None:
        self._client, self.delay = client, delay
        self._queue: queue.Queue[tuple[float, str, str]] = queue.Queue()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.log: list[str] = []
        self._thread = threading.Thread(target=self._run, name="chaos-completer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def submit(self, key: str, action_ex_id: str) -> None:
        with self._lock:
            if action_ex_id in self._seen:
                self.log.append(f"hook {key} called again for action execution {action_ex_id}")
                return
            self._seen.add(action_ex_id)
        self._queue.put((time.monotonic() + self.delay, key, action_ex_id))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due, key, action_ex_id = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            time.sleep(max(due - time.monotonic(), 0))
            self._complete(key, action_ex_id)

    def _complete(self, key: str, action_ex_id: str, patience: float = 120.0) -> None:
        """PUT the result; retried while the api is down, given up on an answer that says no."""
        deadline = time.monotonic() + patience
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                self._client().action_executions.update(action_ex_id, state="SUCCESS", output={"key": key})
                return
            except client_base.APIException as error:
                if 400 <= (error.error_code or 0) < 500:
                    self.log.append(f"completing {action_ex_id} ({key}) refused: {error}")
                    return
            except Exception:  # noqa: BLE001, S110 - the api is down or restarting: try again
                pass
            time.sleep(0.5)
        self.log.append(f"completing {action_ex_id} ({key}) gave up after {patience:.0f} s")


def retrying(what: Callable[[], T], timeout: float = 60.0) -> T:
    """``what()``, retried while it raises (a process restarting, a backend terminated)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return what()
        except client_base.APIException as error:
            if 400 <= (error.error_code or 0) < 500 or time.monotonic() > deadline:
                raise  # the api answered: asking again will not change its mind
        except Exception:  # noqa: BLE001 - down, restarting, or our backend was terminated
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class Harness:
    """Database, broker vhost, the five processes, the side-effect server; ``run()`` the trials."""

    def __init__(self, settings: Settings, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self.out = out
        self.rng = random.Random(settings.seed)
        self.results: list[TrialResult] = []
        self.workdir = settings.workdir or pathlib.Path(tempfile.mkdtemp(prefix="mistral-chaos-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tag = f"s{settings.seed}"
        self.completer: Completer | None = None
        self.server = SideEffectServer(on_async=self._on_async, delay=settings.action_time)
        self.db_url: str | None = None
        self.rabbit: Rabbit | None = None
        self.cluster: Cluster | None = None
        self.db: sa.Engine | None = None
        self.admin: sa.Engine | None = None
        self._tails_shown = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _on_async(self, key: str, action_ex_id: str) -> None:
        if self.completer is not None:
            self.completer.submit(key, action_ex_id)

    # -- set up and tear down -----------------------------------------------------------------------

    def check_services(self) -> Rabbit:
        """Raise when PostgreSQL or RabbitMQ is not there (callers decide: skip, fail or exit)."""
        admin = sa.create_engine(self.settings.admin_url)
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            admin.dispose()
        rabbit = Rabbit(self.settings.rabbit_url)
        rabbit.check()
        return rabbit

    def start(self) -> None:
        started = time.monotonic()
        self.rabbit = self.check_services()
        self.rabbit.make_vhost()
        self.db_url = cluster_mod.create_database(self.settings.admin_url, prefix="mistral_chaos")
        self.db = sa.create_engine(self.db_url, pool_size=2, pool_pre_ping=True)
        self.admin = sa.create_engine(
            self.settings.admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True
        )
        self.cluster = Cluster(self.workdir, self.db_url, self.rabbit, OPTIONS)
        self.cluster.add("engine-b", "engine")
        self.cluster.migrate()
        self.server.start()
        self.cluster.start()
        faults.wait_up(self.cluster, "engine-b", 0)
        client = self.cluster.client()
        client.workflows.create(definitions(self.server.base))
        self.completer = Completer(self.cluster.client, self.settings.async_delay)
        self.completer.start()
        self.say(
            f"chaos: work dir {self.workdir}, database {sa.engine.make_url(self.db_url).database}, "
            f"side effects on {self.server.base}; cluster up in {time.monotonic() - started:.1f} s"
        )

    def stop(self, keep: bool, keep_database: bool | None = None) -> None:
        """Stop everything; ``keep`` the work dir (and the database, unless ``keep_database`` says no)."""
        keep_database = keep if keep_database is None else keep_database
        if self.completer is not None:
            self.completer.stop()
        if self.cluster is not None:
            self.cluster.stop()
        self.server.stop()
        for engine in (self.db, self.admin):
            if engine is not None:
                engine.dispose()
        if self.rabbit is not None:
            self.rabbit.drop_vhost()
        if self.db_url is not None and not keep_database:
            cluster_mod.drop_database(self.settings.admin_url, self.db_url)
        if keep:
            kept = f" and database {self.db_url}" if keep_database else ""
            self.say(f"chaos: kept the work dir {self.workdir}{kept}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- trials ---------------------------------------------------------------------------------------

    def run(self) -> list[TrialResult]:
        for number in range(1, self.settings.trials + 1):
            result = self.trial(number)
            self.results.append(result)
            self.report_trial(result)
            if result.problems and not self.settings.keep_going:
                break
        self.recount_late()
        return self.results

    def trial(self, number: int) -> TrialResult:
        assert self.cluster is not None and self.db is not None and self.admin is not None
        plan = faults.Plan.draw(self.rng, self.settings.fault_window)
        result = TrialResult(number, plan)
        started = time.monotonic()
        client = self.cluster.client()
        runs: list[tuple[Any, str, str]] = []
        for kind in MIX:
            for j in range(self.settings.per_kind):
                key = f"{self.tag}t{number}-{kind.workflow.removeprefix('chaos_')}{j}"
                ex = retrying(
                    lambda k=kind, key=key: client.executions.create(k.workflow, workflow_input=k.input(key))
                )
                runs.append((kind, key, ex.id))
        result.executions = len(runs)
        t0 = time.monotonic()
        injector = faults.Injector(self.cluster, self.admin, self.db_name, plan, t0)
        injector.start()
        result.terminal_at = self._wait_terminal([ex_id for _, _, ex_id in runs], injector, t0)
        injector.join(faults.UP_TIMEOUT + 10)
        time.sleep(self.settings.settle)
        counts = self.server.ledger.counts()
        for kind, key, ex_id in runs:
            seen = self.observe(kind, key, ex_id)
            result.observed.append(seen)
            result.problems += checks.check(seen, counts, plan.executor_kills)
        result.problems += self._crashes(plan)
        result.duration = time.monotonic() - started
        return result

    @property
    def db_name(self) -> str:
        assert self.db_url is not None
        return str(sa.engine.make_url(self.db_url).database)

    def _wait_terminal(self, ids: list[str], injector: faults.Injector, t0: float) -> float | None:
        """Seconds after ``t0`` when every execution was terminal; None when the bound passed first."""
        assert self.db is not None
        hard_stop = t0 + self.settings.fault_window + 3 + faults.UP_TIMEOUT + self.settings.stuck_after
        last_restart: float | None = None
        while time.monotonic() < hard_stop:
            if injector.done and last_restart is None:
                last_restart = time.monotonic()
            try:
                with self.db.connect() as conn:
                    states = conn.execute(
                        sa.text("SELECT state FROM workflow_executions_v2 WHERE id IN :ids").bindparams(
                            sa.bindparam("ids", expanding=True)
                        ),
                        {"ids": ids},
                    ).scalars()
                    open_ = [s for s in states if s not in checks.TERMINAL]
                    found = conn.execute(
                        sa.text("SELECT count(*) FROM workflow_executions_v2 WHERE id IN :ids").bindparams(
                            sa.bindparam("ids", expanding=True)
                        ),
                        {"ids": ids},
                    ).scalar()
                if not open_ and found == len(ids) and injector.done:
                    return time.monotonic() - t0
            except sa.exc.SQLAlchemyError:
                pass  # our own backend was terminated too
            if last_restart is not None and time.monotonic() - last_restart > self.settings.stuck_after:
                return None
            time.sleep(POLL)
        return None

    def observe(self, kind: Any, key: str, ex_id: str) -> Observed:
        assert self.cluster is not None and self.db is not None
        client = self.cluster.client()
        try:
            ex = retrying(lambda: client.executions.get(ex_id), timeout=30)
        except client_base.APIException as error:
            if error.error_code == 404:
                return Observed(kind, key, None, None, None, None, [], {})
            raise
        output = json.loads(ex.output) if isinstance(ex.output, str) and ex.output else ex.output
        error_infos: list[str] = []
        actions: dict[str, list[str]] = {}
        with self.db.connect() as conn:
            rows = retrying(
                lambda: conn.execute(
                    sa.text(
                        "SELECT t.name, t.state, t.state_info, a.id, a.state, a.state_info, pt.name "
                        "FROM task_executions_v2 t "
                        "JOIN workflow_executions_v2 w ON t.workflow_execution_id = w.id "
                        "LEFT JOIN task_executions_v2 pt ON w.task_execution_id = pt.id "
                        "LEFT JOIN action_executions_v2 a ON a.task_execution_id = t.id "
                        "WHERE w.id = :id OR w.root_execution_id = :id OR pt.workflow_execution_id = :id"
                    ),
                    {"id": ex_id},
                ).all(),
                timeout=30,
            )
        for name, t_state, t_info, a_id, a_state, a_info, parent in rows:
            task = f"{parent}/{name}" if parent else name
            if a_id:
                actions.setdefault(task, []).append(a_id)
            for state, info in ((t_state, t_info), (a_state, a_info)):
                if state == "ERROR" and info:
                    error_infos.append(f"{task}: {info}")
        return Observed(kind, key, ex_id, ex.state, ex.state_info, output, error_infos, actions)

    def _crashes(self, plan: faults.Plan) -> list[Problem]:
        """A process that died without being killed, or did not come back, is a problem; restart it."""
        assert self.cluster is not None
        found = [Problem(checks.CRASHED, None, name, error) for name, error in _split(plan.kill.errors)]
        for name, proc in self.cluster.processes.items():
            if proc.popen is not None and proc.popen.poll() is not None:
                if not any(p.workflow == name for p in found):
                    found.append(Problem(checks.CRASHED, None, name, f"exited {proc.popen.returncode}"))
                offset = proc.log.stat().st_size
                proc.start()
                faults.wait_up(self.cluster, name, offset)
        return found

    def recount_late(self) -> None:
        """Hits that came after a trial was checked (a re-sent action of an earlier trial) count too."""
        counts = self.server.ledger.counts()
        for result in self.results:
            known = {p.detail for p in result.problems}
            for seen in result.observed:
                for problem in checks.check(seen, counts, result.plan.executor_kills):
                    if problem.category == checks.DUPLICATED and problem.detail not in known:
                        problem.detail += " (late: after the trial was checked)"
                        result.problems.append(problem)
                        self.say(f"  late in trial {result.number}: {problem}")

    # -- reporting ------------------------------------------------------------------------------------

    def report_trial(self, result: TrialResult) -> None:
        counts = " ".join(f"{c} {result.count(c)}" for c in checks.CATEGORIES)
        recovery = ", ".join(
            f"{name} {'never' if t is None else f'{t:+.1f}s'}" for name, t in result.recovery().items()
        )
        terminal = "never" if result.terminal_at is None else f"t={result.terminal_at:.1f}s"
        self.say(
            f"trial {result.number:3}/{self.settings.trials}: {result.executions} executions; "
            f"{result.plan.describe()}\n"
            f"    all terminal {terminal}; after restart: {recovery}; took {result.duration:.1f}s; {counts}; "
            f"ERROR explained by a kill {result.explained_errors}"
        )
        for problem in result.problems:
            self.say(f"    {problem}")
        if result.problems:
            self.say(self.log_excerpts(result.problems))

    def log_excerpts(self, problems: list[Problem], per_problem: int = 6) -> str:
        """Log lines naming the problem's execution and action executions, then the tail of every log."""
        assert self.cluster is not None
        logs = {
            name: p.log.read_text(errors="replace").splitlines() for name, p in self.cluster.processes.items()
        }
        lines: list[str] = []
        for problem in problems[:8]:
            if not problem.ids:
                continue
            pattern = re.compile("|".join(re.escape(i) for i in problem.ids))
            hits = [(n, line) for n, text in logs.items() for line in text if pattern.search(line)]
            interesting = [h for h in hits if " WARNING " in h[1] or " ERROR " in h[1]] or hits
            interesting.sort(key=lambda h: h[1][:23])  # by time: every line starts with its timestamp
            lines.append(f"  -- {problem.workflow} {problem.execution_id}: {len(hits)} log lines, e.g.")
            lines += [f"     [{n}] {line[:300]}" for n, line in interesting[:per_problem]]
        self._tails_shown += 1
        if self._tails_shown > TAILS_SHOWN:
            return "\n".join(lines)
        return "\n".join(lines) + "\n" + "".join(p.tail(20) for p in self.cluster.processes.values())

    def summary(self) -> str:
        head = f"{'trial':>5} {'faults':64} {'lost':>4} {'dup':>4} {'stuck':>5} {'wrong':>5} {'crash':>5} "
        head += f"{'recovery':>16} {'took':>6}"
        rows = [head, "-" * len(head)]
        for r in self.results:
            kill = r.plan.kill
            what = f"{'+'.join(kill.victims)}@{kill.killed_at or kill.at:.1f}s/{kill.down_for:.1f}s"
            what += f" pg@{r.plan.pg.done_at or r.plan.pg.at:.1f}s x{r.plan.pg.terminated}"
            rec = ",".join("-" if t is None else f"{t:.1f}" for t in r.recovery().values())
            rows.append(
                f"{r.number:5} {what:64} {r.count(checks.LOST):4} {r.count(checks.DUPLICATED):4} "
                f"{r.count(checks.STUCK):5} {r.count(checks.WRONG):5} {r.count(checks.CRASHED):5} "
                f"{rec:>16} {r.duration:5.1f}s"
            )
        totals = {c: sum(r.count(c) for r in self.results) for c in checks.CATEGORIES}
        trials_bad = sum(1 for r in self.results if r.problems)
        rows.append("-" * len(head))
        rows.append(
            f"total: {len(self.results)} trials, {trials_bad} with problems; "
            + ", ".join(f"{c} {n}" for c, n in totals.items())
            + f"; {sum(r.duration for r in self.results):.0f} s; "
            + f"{sum(r.explained_errors for r in self.results)} executions in ERROR explained by a kill"
        )
        by_victim: dict[str, list[int]] = {}
        for r in self.results:
            for v in r.plan.kill.victims:
                by_victim.setdefault(v, [0, 0])
                by_victim[v][0] += 1
                by_victim[v][1] += bool(r.problems)
        rows.append(
            "trials by victim (trials / with problems): "
            + ", ".join(f"{v} {a}/{b}" for v, (a, b) in sorted(by_victim.items()))
        )
        kinds = collections.Counter(
            (p.category, p.workflow, p.task or "-") for r in self.results for p in r.problems
        )
        if kinds:
            rows.append("problems by category, workflow and task:")
            rows += [f"  {n:4} {c:10} {w:13} {t}" for (c, w, t), n in sorted(kinds.items())]
        causes = collections.Counter(
            ("+".join(r.plan.kill.victims), p.category) for r in self.results for p in r.problems
        )
        if causes:
            rows.append("problems by process killed in their trial:")
            rows += [f"  {n:4} {c:10} {v}" for (v, c), n in sorted(causes.items())]
        if self.completer is not None and self.completer.log:
            rows.append(f"async completer notes ({len(self.completer.log)}):")
            rows += [f"  {line}" for line in self.completer.log[:20]]
        return "\n".join(rows)

    def write_json(self) -> pathlib.Path:
        path = self.workdir / "chaos-report.json"
        data = [
            {
                "trial": r.number,
                "plan": dataclasses.asdict(r.plan),
                "duration": r.duration,
                "terminal_at": r.terminal_at,
                "recovery": r.recovery(),
                "problems": [dataclasses.asdict(p) for p in r.problems],
            }
            for r in self.results
        ]
        path.write_text(json.dumps(data, indent=1))
        return path


def _split(errors: list[str]) -> list[tuple[str, str]]:
    return [(error.split(" ", 1)[0], error) for error in errors]
