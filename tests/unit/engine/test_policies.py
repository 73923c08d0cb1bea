"""Policy decisions applied inside the unit of work: the task's state, its runtime record, the job that
ends its delay, the pause request. Nothing leaves the process (the ``sent`` outbox records it)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import engine as engine_module
from mistral.engine import policies, task_records
from mistral.engine.run import lock_task
from mistral.engine.unit_of_work import unit_of_work
from mistral.services import definitions
from mistral.workflow import states

pytestmark = pytest.mark.usefixtures("db", "sent")

WORKFLOWS = """
version: '2.0'
waits:
  tasks:
    t:
      action: std.noop
      wait-before: 30
paused:
  tasks:
    t:
      action: std.noop
      pause-before: true
flaky:
  task-defaults:
    retry: {count: 3, delay: 10, backoff: 2, max-delay: 15}
  tasks:
    t:
      action: std.noop
      timeout: 60
plain_retry:
  tasks:
    t:
      action: std.noop
      retry: {count: 1, delay: 5}
held:
  tasks:
    t:
      action: std.noop
      wait-after: 20
"""


@pytest.fixture(autouse=True)
def _workflows(db: str) -> None:
    definitions.create_workflows(WORKFLOWS)


@pytest.fixture
def internal() -> Iterator[None]:
    with context.using(context.Context(is_internal=True)):
        yield


def start(name: str) -> models.TaskExecution:
    eng = engine_module.get()
    wf_ex_id = eng.start_workflow(name)["id"]
    eng.run_first_steps([wf_ex_id])
    with context.using(context.Context(is_internal=True)):
        (task_ex,) = db_api.find_task_executions(wf_ex_id)
    return task_ex


def fail_action(task_ex: models.TaskExecution) -> None:
    with context.using(context.Context(is_internal=True)):
        (action_ex,) = db_api.find_action_executions(task_ex.id, states=[states.RUNNING])
    engine_module.get().on_action_results([{"action_ex_id": action_ex.id, "error": "boom"}])


def fresh(task_ex: models.TaskExecution) -> models.TaskExecution:
    with context.using(context.Context(is_internal=True)):
        return db_api.get_task_execution(task_ex.id)


def job_of(task_ex: models.TaskExecution, kind: str = "delay") -> models.ScheduledJob:
    job = db_api.load_scheduled_job_by_key(f"{kind}:{task_ex.id}")
    assert job is not None
    return job


def seconds_ahead(job: models.ScheduledJob) -> float:
    return (job.run_after - job.created_at).total_seconds()


def test_wait_before_delays_the_task_and_schedules_its_resume() -> None:
    task_ex = fresh(start("waits"))
    assert task_ex.state == states.RUNNING_DELAYED
    assert task_records.runtime(task_ex).wait_before_done
    job = job_of(task_ex)
    assert job.func_name == policies.RESUME_DELAYED and job.func_args == {"task_ex_id": task_ex.id}
    assert seconds_ahead(job) == pytest.approx(30, abs=1)
    assert db_api.find_action_executions(task_ex.id) == []  # nothing sent yet


def test_pause_before_sets_the_task_idle_and_asks_the_run_to_pause(internal: None) -> None:
    task_ex = start("paused")
    assert fresh(task_ex).state == states.IDLE
    assert db_api.get_workflow_execution(task_ex.workflow_execution_id).state == states.PAUSED
    assert task_records.runtime(fresh(task_ex)).pause_before_done
    assert db_api.count_scheduled_jobs(policies.RESUME_DELAYED) == 0


def test_pause_before_applied_directly_sets_the_pause_request(internal: None) -> None:
    task_ex = start("paused")
    with unit_of_work():
        run, task_ex = lock_task(task_ex.id)
        task_records.update_runtime(task_ex, pause_before_done=False)
        assert policies.pause_before(run, task_ex, run.task_spec("t"))
        assert run.pause_requested == "Paused before task 't' (pause-before)"
        assert not policies.pause_before(run, task_ex, run.task_spec("t"))  # once only


def test_a_failure_with_retry_left_is_delayed_with_the_backoff_delay_recorded() -> None:
    task_ex = start("flaky")
    assert job_of(task_ex, "timeout").func_name == policies.TIMEOUT
    before = utcnow()
    fail_action(task_ex)
    task_ex = fresh(task_ex)
    record = task_records.runtime(task_ex)
    assert task_ex.state == states.RUNNING_DELAYED and record.retry_no == 1
    job = job_of(task_ex)
    assert job.func_name == policies.RETRY
    assert record.next_retry_at == job.run_after.isoformat()
    ten = datetime.timedelta(seconds=10)
    assert before + ten <= job.run_after <= utcnow() + ten


def test_retry_with_backoff_applied_directly_grows_then_caps_the_delay(internal: None) -> None:
    task_ex = start("flaky")
    ahead = []
    for retry_no in (1, 2, 3):
        with unit_of_work():
            run, task_ex = lock_task(task_ex.id)
            if retry_no > 1:
                task_records.set_state(task_ex, states.RUNNING)
            assert policies.retry(run, task_ex, run.task_spec("t"), states.ERROR, "boom")
        ahead.append(round(seconds_ahead(job_of(task_ex))))
        assert task_records.runtime(fresh(task_ex)).retry_no == retry_no
    assert ahead == [10, 15, 15]  # 10, 20 capped at 15, 40 capped at 15
    with unit_of_work():
        run, task_ex = lock_task(task_ex.id)
        assert not policies.retry(run, task_ex, run.task_spec("t"), states.ERROR, "boom")  # count spent


def test_a_retry_without_backoff_waits_its_delay(internal: None) -> None:
    task_ex = start("plain_retry")
    fail_action(task_ex)
    assert round(seconds_ahead(job_of(task_ex))) == 5
    assert fresh(task_ex).state == states.RUNNING_DELAYED


def test_a_timed_out_task_is_not_retried(internal: None) -> None:
    task_ex = start("flaky")
    with unit_of_work():
        run, task_ex = lock_task(task_ex.id)
        task_records.update_runtime(task_ex, timed_out=True)
        assert not policies.retry(run, task_ex, run.task_spec("t"), states.ERROR, "boom")
        assert task_ex.state == states.RUNNING
    assert db_api.load_scheduled_job_by_key(f"delay:{task_ex.id}") is None


def test_wait_after_holds_the_outcome_in_the_record() -> None:
    task_ex = start("held")
    fail_action(task_ex)
    task_ex = fresh(task_ex)
    assert task_ex.state == states.RUNNING_DELAYED
    record = task_records.runtime(task_ex)
    assert record.wait_after_done
    assert record.pending == task_records.PendingOutcome(states.ERROR, "boom", "boom")
    job = job_of(task_ex)
    assert job.func_name == policies.FINISH_DELAYED and round(seconds_ahead(job)) == 20


def test_timeout_is_scheduled_once_and_cancelled_with_the_task(internal: None) -> None:
    task_ex = start("flaky")
    assert task_records.runtime(fresh(task_ex)).timeout_scheduled
    assert round(seconds_ahead(job_of(task_ex, "timeout"))) == 60
    with unit_of_work():
        run, task_ex = lock_task(task_ex.id)
        policies.schedule_timeout(run, task_ex, run.task_spec("t"))  # already scheduled: no second job
        assert policies.timeout_seconds(run, task_ex, run.task_spec("t")) == 60
        policies.cancel_timeout(task_ex)
    assert db_api.load_scheduled_job_by_key(f"timeout:{task_ex.id}") is None
    assert db_api.count_scheduled_jobs(policies.TIMEOUT) == 0
