"""Cron triggers fire exactly once with two engines on one PostgreSQL database.

Both tests run in this process, with two "engines" as two threads: first two
real ``Scheduler`` loops running the cron job, then two threads calling the
firing function directly, held so both have listed the same due triggers
before either claims one. No engine processes and no broker are started: what
decides exactly-once is the database (the claim's compare-and-set), and that is
the real, shared PostgreSQL here.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db import models, session
from mistral.db.types import utcnow
from mistral.engine import cron, sender
from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler
from mistral.services import cron_triggers, definitions
from tests.conftest import use_database

pytestmark = pytest.mark.postgres

TRIGGERS = 50
WORKFLOW = "version: '2.0'\nyearly:\n  tasks:\n    t:\n      action: std.noop\n"
#: Once a year: after its firing no trigger is due again while the test runs.
PATTERN = "0 0 1 1 *"


@pytest.fixture
def pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_database(postgres_url)
    _clean()
    # NOTE: no executor runs here; the executions' first actions are simply not sent.
    monkeypatch.setattr(sender, "send", lambda box: None)
    yield
    _clean()


def _clean() -> None:
    with session.get_engine().begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            conn.execute(table.delete())


def _due_triggers(now: datetime.datetime) -> list[str]:
    wf = definitions.create_workflows(WORKFLOW)[0]
    ids = []
    with db_api.transaction():
        for i in range(TRIGGERS):
            trigger = db_api.create_cron_trigger(
                {"name": f"t{i:02}", "pattern": PATTERN, "next_execution_time": now, "workflow_id": wf.id,
                 "workflow_name": wf.name, "workflow_input": {}, "workflow_params": {}}
            )  # fmt: skip
            ids.append(trigger.id)
    return ids


def _execution_ids() -> list[str]:
    with context.using(context.Context(is_internal=True)):
        return [e.id for e in db_api.list_workflow_executions()]


def _check_fired_once(ids: list[str], due: datetime.datetime) -> None:
    executions = _execution_ids()
    assert len(executions) == TRIGGERS
    assert sorted(executions) == sorted(cron_triggers.execution_id(i, due) for i in ids)
    next_year = cron_triggers.next_tick(PATTERN, due)
    assert {t.next_execution_time for t in db_api.list_cron_triggers()} == {next_year}


@pytest.mark.usefixtures("pg")
def test_two_scheduler_loops_start_exactly_one_execution_per_trigger() -> None:
    due = utcnow().replace(microsecond=0)
    ids = _due_triggers(due)
    cron.ensure_scheduled()
    # NOTE: a second copy of the cron job (as left behind by a takeover) lets both
    # schedulers run the firing at the same time; the claim must still hold.
    with context.using(context.Context(is_internal=True)), db_api.transaction():
        jobs.schedule(cron.JOB, run_after=due)
    engines = [Scheduler(), Scheduler()]
    for engine in engines:
        engine.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_execution_ids()) < TRIGGERS:
            time.sleep(0.1)
        time.sleep(2.5)  # more cron runs: nothing may fire twice
    finally:
        for engine in engines:
            engine.stop(timeout=10)
    _check_fired_once(ids, due)
    assert db_api.count_scheduled_jobs(cron.JOB) == 1


@pytest.mark.usefixtures("pg")
def test_two_engines_that_listed_the_same_due_triggers_fire_each_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = utcnow().replace(microsecond=0)
    ids = _due_triggers(due)
    real_list, real_claim = db_api.list_due_cron_triggers, db_api.claim_cron_trigger
    listed = threading.Barrier(2, timeout=30)
    claims: list[bool] = []

    def list_then_wait(*args: Any) -> list[Any]:
        found = real_list(*args)
        listed.wait()
        return found

    def claim(*args: Any) -> bool:
        won = real_claim(*args)
        claims.append(won)
        return won

    monkeypatch.setattr(db_api, "list_due_cron_triggers", list_then_wait)
    monkeypatch.setattr(db_api, "claim_cron_trigger", claim)
    errors: list[BaseException] = []

    def engine() -> None:
        try:
            cron.fire_due_triggers(due)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=engine) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert (claims.count(True), claims.count(False)) == (TRIGGERS, TRIGGERS)
    _check_fired_once(ids, due)
