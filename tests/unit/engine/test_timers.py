"""A task's scheduled job that keeps failing fails the task with the reason; the workflow ends."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import config, context
from mistral.db import api as db_api
from mistral.engine import engine, policies, sender, task_records, tasks, timers  # noqa: F401  (timers registers the jobs)
from mistral.scheduler.scheduler import Scheduler
from mistral.services import definitions
from mistral.workflow import states
from tests.unit.scheduler.conftest import FakeClock

pytestmark = pytest.mark.usefixtures("db")

WORKFLOW = """
version: '2.0'
delayed:
  tasks:
    first:
      action: std.noop
      wait-before: 1
      on-success: second
    second:
      action: std.noop
"""


@pytest.fixture
def max_attempts() -> Any:
    config.CONF.set_override("max_attempts", 3, group="scheduler")
    yield 3
    config.CONF.clear_override("max_attempts", group="scheduler")


def test_delayed_task_whose_resume_keeps_failing_fails_and_its_workflow_ends(
    sent: list[Any], max_attempts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions.create_workflows(WORKFLOW)
    eng = engine.Engine()
    wf_ex_id = eng.start_workflow("delayed")["id"]
    eng.run_first_steps([wf_ex_id])
    with context.using(context.Context(is_internal=True)):
        (task_ex,) = db_api.find_task_executions(wf_ex_id)
    assert task_ex.state == states.RUNNING_DELAYED

    runs: list[str] = []

    def broken_execute(run: Any, task_ex: Any) -> None:
        runs.append(task_ex.id)
        raise RuntimeError("the executor table is gone")

    monkeypatch.setattr(tasks, "execute", broken_execute)
    clock = FakeClock()
    sched = Scheduler(clock, retry_delay=1.0)
    for _ in range(max_attempts):
        clock.advance(10)
        assert sched.run_once() == 1
    with context.using(context.Context(is_internal=True)):
        task_ex = db_api.get_task_execution(task_ex.id)
        wf_ex = db_api.get_workflow_execution(wf_ex_id)
        names = sorted(t.name for t in db_api.find_task_executions(wf_ex_id))
    assert runs == [task_ex.id] * max_attempts
    assert task_ex.state == states.ERROR
    assert task_ex.state_info == (
        "Scheduled resume of the delayed task could not run after 3 attempts: "
        "RuntimeError: the executor table is gone"
    )
    assert wf_ex.state == states.ERROR  # not RUNNING forever
    assert "first" in wf_ex.state_info
    assert names == ["first"]  # on-success did not fire
    assert db_api.count_scheduled_jobs() == 0
    clock.advance(3600)
    assert sched.run_once() == 0


POLICY_WORKFLOWS = """
version: '2.0'
waits:
  tasks:
    t:
      action: std.noop
      wait-before: 30
retried:
  tasks:
    t:
      action: std.noop
      retry: {count: 2, delay: 5, backoff: 3}
held:
  tasks:
    t:
      action: std.noop
      wait-after: 20
limited:
  tasks:
    t:
      action: std.noop
      timeout: 60
      retry: {count: 3, delay: 1}
"""


def _start(name: str) -> Any:
    definitions.create_workflows(POLICY_WORKFLOWS)
    eng = engine.Engine()
    wf_ex_id = eng.start_workflow(name)["id"]
    eng.run_first_steps([wf_ex_id])
    (task_ex,) = db_api.find_task_executions(wf_ex_id)
    return task_ex


def _actions(task_ex: Any, *wanted: str) -> list[Any]:
    return db_api.find_action_executions(task_ex.id, states=list(wanted) or None)


def _finish_action(task_ex: Any, **result: Any) -> None:
    (action_ex,) = _actions(task_ex, states.RUNNING)
    engine.Engine().on_action_results([{"action_ex_id": action_ex.id, **result}])


@pytest.fixture
def internal() -> Any:
    with context.using(context.Context(is_internal=True)):
        yield


@pytest.mark.usefixtures("sent", "internal")
def test_a_delayed_task_runs_when_its_wait_before_is_over_not_before() -> None:
    task_ex = _start("waits")
    clock = FakeClock()
    sched = Scheduler(clock)
    clock.advance(28)
    assert sched.run_once() == 0
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING_DELAYED
    clock.advance(3)
    assert sched.run_once() == 1
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING
    assert len(_actions(task_ex, states.RUNNING)) == 1
    assert db_api.count_scheduled_jobs() == 0


@pytest.mark.usefixtures("sent", "internal")
def test_the_retry_job_runs_the_task_again_and_the_next_failure_backs_off() -> None:
    task_ex = _start("retried")
    _finish_action(task_ex, error="boom")
    clock = FakeClock()
    sched = Scheduler(clock)
    clock.advance(6)
    assert sched.run_once() == 1  # the retry after 5 s
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING
    _finish_action(task_ex, error="boom again")
    # NOTE: the fake clock started with the real one, which has barely moved since
    clock.advance(8)
    assert sched.run_once() == 0  # the second retry waits 5 * 3 = 15 s, not 5
    clock.advance(2)
    assert sched.run_once() == 1
    task_ex = db_api.get_task_execution(task_ex.id)
    assert task_ex.state == states.RUNNING and task_records.runtime(task_ex).retry_no == 2
    assert len(_actions(task_ex)) == 3


@pytest.mark.usefixtures("sent", "internal")
def test_the_end_of_a_wait_after_applies_the_held_outcome() -> None:
    task_ex = _start("held")
    _finish_action(task_ex, data={"answer": 42})
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING_DELAYED
    timers.finish_delayed_task(task_ex.id)
    task_ex = db_api.get_task_execution(task_ex.id)
    assert task_ex.state == states.SUCCESS
    assert db_api.get_workflow_execution(task_ex.workflow_execution_id).state == states.SUCCESS


@pytest.mark.usefixtures("sent", "internal")
def test_the_timeout_job_fails_the_task_cancels_its_action_and_does_not_retry() -> None:
    task_ex = _start("limited")
    timers.task_timeout(task_ex.id)
    task_ex = db_api.get_task_execution(task_ex.id)
    assert task_ex.state == states.ERROR
    assert task_ex.state_info == "Task timed out [timeout(s)=60]."
    assert [a.state for a in _actions(task_ex)] == [states.CANCELLED]
    assert task_records.runtime(task_ex).timed_out and task_records.runtime(task_ex).retry_no == 0
    assert db_api.count_scheduled_jobs() == 0


@pytest.mark.usefixtures("sent", "internal")
@pytest.mark.parametrize(
    "job", [timers.resume_delayed_task, timers.retry_task, timers.finish_delayed_task, timers.task_timeout]
)
def test_a_job_for_a_task_no_longer_active_does_nothing(job: Any) -> None:
    task_ex = _start("limited")
    _finish_action(task_ex, data="done")
    task_ex = db_api.get_task_execution(task_ex.id)
    assert task_ex.state == states.SUCCESS
    before = (task_ex.updated_at, task_ex.runtime_context)
    job(task_ex.id)
    task_ex = db_api.get_task_execution(task_ex.id)
    assert (task_ex.state, task_ex.updated_at, task_ex.runtime_context) == (states.SUCCESS, *before)
    assert len(_actions(task_ex)) == 1


@pytest.mark.usefixtures("sent", "internal")
def test_a_job_for_a_task_that_is_gone_does_nothing() -> None:
    timers.retry_task("no-such-task")
    assert db_api.count_scheduled_jobs() == 0


@pytest.mark.usefixtures("sent", "internal")
def test_a_wait_after_that_ends_while_paused_applies_the_held_outcome_after_resume() -> None:
    task_ex = _start("held")
    _finish_action(task_ex, data={"answer": 42})
    eng = engine.Engine()
    eng.pause_workflow(task_ex.workflow_execution_id)
    timers.finish_delayed_task(task_ex.id)  # paused: it looks again later
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING_DELAYED
    job = db_api.load_scheduled_job_by_key(f"delay:{task_ex.id}")
    assert job is not None and job.func_name == policies.FINISH_DELAYED
    eng.resume_workflow(task_ex.workflow_execution_id)
    clock = FakeClock()
    clock.advance(2)
    assert Scheduler(clock).run_once() == 1
    task_ex = db_api.get_task_execution(task_ex.id)
    assert task_ex.state == states.SUCCESS and len(_actions(task_ex)) == 1  # not run a second time


@pytest.mark.usefixtures("sent", "internal")
def test_a_timeout_while_paused_waits_as_a_timeout_and_leaves_the_retry_job_alone() -> None:
    task_ex = _start("limited")
    _finish_action(task_ex, error="boom")  # retried after 1 s
    engine.Engine().pause_workflow(task_ex.workflow_execution_id)
    timers.task_timeout(task_ex.id)
    assert db_api.get_task_execution(task_ex.id).state == states.RUNNING_DELAYED
    retry_job = db_api.load_scheduled_job_by_key(f"delay:{task_ex.id}")
    timeout_job = db_api.load_scheduled_job_by_key(f"timeout:{task_ex.id}")
    assert retry_job is not None and retry_job.func_name == policies.RETRY
    assert timeout_job is not None and timeout_job.func_name == policies.TIMEOUT
