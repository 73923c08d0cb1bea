"""Firing cron triggers with an injected clock: count down, delete at zero, missed ticks, exactly once."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

import pytest

from mistral import config, context
from mistral.db import api as db_api
from mistral.engine import cron
from mistral.exceptions import NotFoundError
from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler
from mistral.services import cron_triggers as ct
from mistral.services import definitions
from tests.unit.triggers.conftest import T0, FakeClock

pytestmark = pytest.mark.usefixtures("sent")


def _m(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def _create(workflow: Any, name: str = "t", **values: Any) -> Any:
    body = {"name": name, "workflow_id": workflow.id, "workflow_input": {"greeting": "hi"}, **values}
    return ct.create_cron_trigger(body)


def _executions() -> list[Any]:
    with context.using(context.Context(is_internal=True)):
        return sorted(db_api.list_workflow_executions(), key=lambda e: e.created_at)


def test_nothing_fires_before_it_is_due(workflow: Any, clock: FakeClock) -> None:
    _create(workflow, pattern="* * * * *")
    clock.set(_m(1) - datetime.timedelta(microseconds=1))
    assert cron.fire_due_triggers() == 0
    assert _executions() == []


def test_two_executions_at_the_right_minutes_then_gone(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(
        workflow, pattern="* * * * *", first_execution_time="2030-01-01 12:01", remaining_executions=2
    )
    starts = []
    for second in range(0, 240, 10):  # the cron job looks every 10 s for four minutes
        clock.set(T0 + datetime.timedelta(seconds=second))
        if cron.fire_due_triggers():
            starts.append(clock.now)
    assert starts == [_m(1), _m(2)]
    executions = _executions()
    assert [e.id for e in executions] == [
        ct.execution_id(trigger.id, _m(1)),
        ct.execution_id(trigger.id, _m(2)),
    ]
    for ex in executions:
        assert ex.workflow_name == "ticked" and ex.input["greeting"] == "hi"
        assert json.loads(ex.description)["triggered_by"] == {
            "type": "cron_trigger",
            "id": trigger.id,
            "name": "t",
        }
    assert db_api.load_cron_trigger(trigger.id) is None


def test_remaining_counts_down(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(workflow, pattern="* * * * *", remaining_executions=3)
    clock.set(_m(1))
    cron.fire_due_triggers()
    after = db_api.get_cron_trigger(trigger.id)
    assert (after.remaining_executions, after.next_execution_time) == (2, _m(2))


def test_first_time_without_pattern_fires_once_and_is_deleted(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(workflow, first_execution_time="2030-01-01 12:30")
    clock.set(_m(30))
    assert cron.fire_due_triggers() == 1
    assert db_api.load_cron_trigger(trigger.id) is None
    assert len(_executions()) == 1


def test_missed_ticks_fire_once_and_say_so(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(workflow, pattern="* * * * *", remaining_executions=10)
    clock.set(_m(5) + datetime.timedelta(seconds=30))  # due 12:01; no engine ran until 12:05:30
    assert cron.fire_due_triggers() == 1
    (ex,) = _executions()
    body = json.loads(ex.description)
    assert body["missed_ticks"] == 4 and "12:02:00" not in body["description"]
    assert "4 later tick(s) up to 2030-01-01 12:05:00 were missed" in body["description"]
    after = db_api.get_cron_trigger(trigger.id)
    assert (after.next_execution_time, after.remaining_executions) == (_m(6), 9)
    clock.set(_m(6))
    cron.fire_due_triggers()
    assert "missed_ticks" not in json.loads(_executions()[-1].description)


def test_a_trigger_whose_workflow_refuses_to_start_is_skipped_and_moves_on(
    workflow: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _create(workflow, name="bad", pattern="* * * * *", workflow_params={"env": "no-such-env"})
    good = _create(workflow, name="good", pattern="* * * * *")
    clock.set(_m(1))
    assert cron.fire_due_triggers() == 2
    assert [json.loads(e.description)["triggered_by"]["name"] for e in _executions()] == ["good"]
    assert db_api.get_cron_trigger(bad.id).next_execution_time == _m(2)
    assert db_api.get_cron_trigger(good.id).next_execution_time == _m(2)
    assert "failed to start its workflow" in caplog.text


def test_a_repeated_firing_of_the_same_due_time_starts_nothing_new(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(workflow, pattern="* * * * *")
    clock.set(_m(1))
    stale = db_api.get_cron_trigger(trigger.id)
    cron.fire_due_triggers()
    # Another engine that read the trigger before this firing committed loses the claim.
    with db_api.transaction():
        assert cron._fire(stale, clock.now) is None
    assert len(_executions()) == 1


def test_the_execution_runs_as_the_triggers_owner(workflow: Any, clock: FakeClock) -> None:
    with context.using(context.Context(project_id="p1")):
        wf = definitions.create_workflows(
            "version: '2.0'\nowned:\n  tasks:\n    t:\n      action: std.noop\n"
        )[0]
        ct.create_cron_trigger({"name": "mine", "workflow_id": wf.id, "pattern": "* * * * *"})
    clock.set(_m(1))
    cron.fire_due_triggers()
    (ex,) = _executions()
    assert ex.project_id == "p1" and ex.workflow_name == "owned"


def test_exactly_once_when_two_engines_race(
    workflow: Any, clock: FakeClock, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each its own input: triggers alike in all else are refused as copies (409), as in Mistral.
    ids = [
        _create(workflow, name=f"t{i}", pattern="* * * * *", workflow_input={"greeting": f"hi {i}"}).id
        for i in range(30)
    ]
    clock.set(_m(1))
    claims: list[bool] = []
    real_list, real_claim = db_api.list_due_cron_triggers, db_api.claim_cron_trigger
    listed = threading.Barrier(2, timeout=30)

    def list_then_wait(*args: Any) -> list[Any]:
        found = real_list(*args)
        if db == "postgres":
            # Both engines hold the same 30 due triggers before either claims one.
            # (SQLite has one writer: the second transaction starts after the first commits.)
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
            cron.fire_due_triggers(_m(1))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=engine) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert claims.count(True) == 30
    if db == "postgres":
        assert claims.count(False) == 30
    executions = _executions()
    assert sorted(e.id for e in executions) == sorted(ct.execution_id(i, _m(1)) for i in ids)
    assert {t.next_execution_time for t in db_api.list_cron_triggers()} == {_m(2)}


def test_the_periodic_job_fires_and_reschedules_itself(
    workflow: Any, clock: FakeClock, set_conf: Any
) -> None:
    set_conf("cron_trigger", "execution_interval", 5)
    _create(workflow, pattern="* * * * *")
    cron.ensure_scheduled()
    cron.ensure_scheduled()  # a second engine starting: still one job
    assert db_api.count_scheduled_jobs(cron.JOB) == 1
    scheduler = Scheduler(clock=clock)
    clock.set(_m(1))
    assert scheduler.run_once() == 1
    assert len(_executions()) == 1
    assert scheduler.run_once() == 0  # next look is execution_interval later
    clock.advance(5)
    assert scheduler.run_once() == 1
    assert len(_executions()) == 1 and db_api.count_scheduled_jobs(cron.JOB) == 1


def test_disabled_cron_schedules_nothing(db: str, set_conf: Any) -> None:
    set_conf("cron_trigger", "enabled", False)
    cron.ensure_scheduled()
    assert db_api.count_scheduled_jobs(cron.JOB) == 0
    assert jobs.get(cron.JOB) is cron.fire


def test_a_deleted_workflow_takes_its_triggers_with_it(workflow: Any, clock: FakeClock) -> None:
    trigger = _create(workflow, pattern="* * * * *")
    db_api.delete_workflow_definition(workflow.id, None)
    with pytest.raises(NotFoundError):
        db_api.get_cron_trigger(trigger.id)
    clock.set(_m(1))
    assert cron.fire_due_triggers() == 0
    assert config.CONF.cron_trigger.enabled


def test_a_database_failure_rolls_the_whole_run_back(
    workflow: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    first = _create(workflow, name="a", pattern="* * * * *")
    _create(workflow, name="b", pattern="* * * * *", workflow_input={"greeting": "hi b"})
    clock.set(_m(1))
    real_start = cron._start

    def start(trigger: Any, firing: Any) -> str:
        if trigger.name == "b":
            raise OperationalError("UPDATE ...", {}, Exception("deadlock detected"))
        return real_start(trigger, firing)

    monkeypatch.setattr(cron, "_start", start)
    with pytest.raises(OperationalError):
        cron.fire_due_triggers()
    # Nothing committed: the retried run fires both, once each.
    assert _executions() == [] and db_api.get_cron_trigger(first.id).next_execution_time == _m(1)
    monkeypatch.setattr(cron, "_start", real_start)
    assert cron.fire_due_triggers() == 2 and len(_executions()) == 2
