"""A task's scheduled job that keeps failing fails the task with the reason; the workflow ends."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import config, context
from mistral.db import api as db_api
from mistral.engine import engine, sender, tasks, timers  # noqa: F401  (timers registers the jobs)
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
