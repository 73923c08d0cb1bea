"""The expiration policy: which executions go, in what order, how many at a time."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler
from mistral.services import expiration
from tests.unit.triggers.conftest import T0, FakeClock

pytestmark = pytest.mark.usefixtures("db", "clock")

POLICY = "execution_expiration_policy"


def _ago(minutes: float) -> datetime.datetime:
    return T0 - datetime.timedelta(minutes=minutes)


def _ex(state: str, minutes_ago: float, *, project_id: str = "p1", parent_task: str | None = None) -> str:
    values = {
        "workflow_name": "wf",
        "state": state,
        "created_at": _ago(minutes_ago + 1),
        "updated_at": _ago(minutes_ago),
        "project_id": project_id,
        "task_execution_id": parent_task,
    }
    return db_api.create_workflow_execution(values).id


def _tree(state: str, minutes_ago: float) -> tuple[str, str, str]:
    """A root execution with a task whose sub-workflow execution has a task of its own."""
    root = _ex(state, minutes_ago)
    task = db_api.create_task_execution({"name": "t", "workflow_execution_id": root, "state": state}).id
    child = _ex(state, minutes_ago, parent_task=task)
    db_api.create_task_execution({"name": "c", "workflow_execution_id": child, "state": state})
    return root, task, child


def _left() -> set[str]:
    with context.using(context.Context(is_internal=True)):
        return {e.id for e in db_api.list_workflow_executions()}


def test_older_than_deletes_only_finished_roots_with_their_trees(set_conf: Any) -> None:
    set_conf(POLICY, "older_than", 60)
    old_roots = [_ex(s, 120) for s in ("SUCCESS", "ERROR", "CANCELLED")]
    old_tree = _tree("SUCCESS", 90)
    kept = {_ex("RUNNING", 120), _ex("PAUSED", 120), _ex("SUCCESS", 30), _ex("IDLE", 500)}
    assert expiration.delete_expired(T0) == (4, False)
    assert _left() == kept
    assert not set(old_roots) & _left() and old_tree[2] not in _left()
    assert db_api.load_task_execution(old_tree[1]) is None


def test_a_finished_child_of_a_live_root_stays(set_conf: Any) -> None:
    set_conf(POLICY, "older_than", 60)
    root = _ex("RUNNING", 120)
    task = db_api.create_task_execution({"name": "t", "workflow_execution_id": root, "state": "RUNNING"}).id
    child = _ex("SUCCESS", 120, parent_task=task)
    assert expiration.delete_expired(T0) == (0, False)
    assert _left() == {root, child}


def test_ignored_states_are_kept(set_conf: Any) -> None:
    set_conf(POLICY, "older_than", 60)
    set_conf(POLICY, "ignored_states", ["ERROR"])
    error = _ex("ERROR", 120)
    _ex("SUCCESS", 120)
    expiration.delete_expired(T0)
    assert _left() == {error}


def test_max_finished_keeps_the_newest_across_projects(set_conf: Any) -> None:
    set_conf(POLICY, "max_finished_executions", 2)
    ids = [_ex("SUCCESS", m, project_id=f"p{m}") for m in (50, 40, 30, 20, 10)]
    running = _ex("RUNNING", 100)
    assert expiration.delete_expired(T0) == (3, False)
    assert _left() == {ids[3], ids[4], running}


def test_both_rules_together(set_conf: Any) -> None:
    set_conf(POLICY, "older_than", 60)
    set_conf(POLICY, "max_finished_executions", 2)
    old = _ex("SUCCESS", 120)
    recent = [_ex("SUCCESS", m) for m in (40, 30, 20)]
    assert expiration.delete_expired(T0) == (2, False)
    assert _left() == set(recent[1:])
    assert old not in _left()


def test_batch_size_limits_one_run_oldest_first(set_conf: Any) -> None:
    set_conf(POLICY, "older_than", 60)
    set_conf(POLICY, "max_finished_executions", 1)
    set_conf(POLICY, "batch_size", 2)
    ids = [_ex("SUCCESS", m) for m in (300, 200, 100, 50, 40)]
    assert expiration.delete_expired(T0) == (2, True)
    assert _left() == set(ids[2:])
    assert expiration.delete_expired(T0) == (2, True)  # one older_than, then one beyond the max
    assert _left() == {ids[4]}
    assert expiration.delete_expired(T0) == (0, False)


def test_the_job_runs_every_interval_and_at_once_after_a_full_batch(set_conf: Any, clock: FakeClock) -> None:
    set_conf(POLICY, "evaluation_interval", 10)
    set_conf(POLICY, "older_than", 60)
    set_conf(POLICY, "batch_size", 1)
    ids = [_ex("SUCCESS", m) for m in (300, 200)]
    expiration.ensure_scheduled()
    expiration.ensure_scheduled()
    assert db_api.count_scheduled_jobs(expiration.JOB) == 1
    scheduler = Scheduler(clock=clock)
    assert scheduler.run_once() == 0  # first run one interval after start
    clock.advance(600)
    assert scheduler.run_once() == 1 and _left() == {ids[1]}
    assert scheduler.run_once() == 1 and _left() == set()  # full batch: again at once
    assert scheduler.run_once() == 1  # an empty batch: back to the interval
    assert scheduler.run_once() == 0
    clock.advance(600)
    assert scheduler.run_once() == 1


@pytest.mark.parametrize(
    "conf",
    [{}, {"evaluation_interval": 10}, {"older_than": 60}, {"evaluation_interval": 10, "batch_size": 5}],
)
def test_the_policy_is_off_unless_an_interval_and_a_rule_are_set(set_conf: Any, conf: dict) -> None:
    for name, value in conf.items():
        set_conf(POLICY, name, value)
    expiration.ensure_scheduled()
    assert not expiration.is_enabled()
    assert db_api.count_scheduled_jobs(expiration.JOB) == 0
    assert jobs.get(expiration.JOB) is expiration.run
