"""What a unit of work did reaches the metrics once it has committed, and only then; lines name the ids."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from mistral.engine import outbox, sender, tallies, tasks, workflows
from mistral.engine.unit_of_work import unit_of_work
from mistral.services import definitions
from mistral.utils import log_ids
from mistral.workflow import states
from tests.unit.engine.conftest import new_run, task_of

WORKFLOWS = """
version: '2.0'
one:
  tasks:
    t:
      action: std.noop
broken:
  tasks:
    t:
      action: std.echo output=<% int('many') %>
"""

SERIES = {
    "started": ("mistral_executions_started_total", {}),
    "succeeded": ("mistral_executions_finished_total", {"state": "SUCCESS"}),
    "failed": ("mistral_executions_finished_total", {"state": "ERROR"}),
    "tasks_ok": ("mistral_task_duration_seconds_count", {"state": "SUCCESS"}),
    "tasks_failed": ("mistral_task_duration_seconds_count", {"state": "ERROR"}),
    "results": ("mistral_engine_results_applied_total", {}),
}


def _counts() -> dict[str, float]:
    return {key: REGISTRY.get_sample_value(name, labels) or 0.0 for key, (name, labels) in SERIES.items()}


@pytest.fixture
def stored(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The workflows stored; the real sender counts after commit, and no action leaves the process."""
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    definitions.create_workflows(WORKFLOWS)
    yield


def _run_one_to_success() -> str:
    run = new_run("one")
    workflows.run_first_step(run)
    tasks.on_action_done(run, task_of(run, "t"), 0, states.SUCCESS, None)
    tallies.results_applied(1)
    workflows.proceed(run)
    assert run.wf_ex.state == states.SUCCESS
    return run.wf_ex.id


def test_counted_after_the_commit(stored: None) -> None:
    before = _counts()
    with unit_of_work():
        _run_one_to_success()
        assert _counts() == before  # nothing is counted before the commit
    after = _counts()
    changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert changed == {"started": 1, "succeeded": 1, "tasks_ok": 1, "results": 1}


def test_a_unit_that_rolls_back_counts_nothing(stored: None) -> None:
    before = _counts()
    with pytest.raises(RuntimeError), unit_of_work():
        _run_one_to_success()
        raise RuntimeError("rolled back, to be run again")
    assert _counts() == before


def test_a_failed_task_and_its_workflow(stored: None) -> None:
    before = _counts()
    with unit_of_work():
        run = new_run("broken")
        workflows.run_first_step(run)
    after = _counts()
    assert (after["failed"], after["tasks_failed"]) == (before["failed"] + 1, before["tasks_failed"] + 1)


def test_outside_a_unit_of_work_an_event_counts_at_once() -> None:
    assert outbox.peek() is None
    before = _counts()
    tallies.execution_started()
    tallies.results_applied(3)
    after = _counts()
    assert (after["started"], after["results"]) == (before["started"] + 1, before["results"] + 3)


def test_a_line_about_a_task_names_its_execution_and_task(
    stored: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mistral.engine"), unit_of_work():
        run = new_run("broken")
        workflows.run_first_step(run)
        task_ex = task_of(run, "t")
    lines: dict[str, Any] = {r.getMessage().split(" ")[0]: r for r in caplog.records}
    assert lines["Task"].execution_ids == f"[exec={run.wf_ex.id} task={task_ex.id}] "
    # The workflow's own line is about the execution, no longer about the task.
    assert lines["Workflow"].execution_ids == f"[exec={run.wf_ex.id}] "
    assert log_ids.current() == ""  # nothing outlives the unit of work
