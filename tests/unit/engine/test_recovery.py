"""Recovery driven directly: lost sends, silent executors, unstarted executions, unheard sub-workflows.

Nothing leaves the process (the ``sent`` fixture records each outbox the engine would send) and
every check runs at a fixed ``now``, so each test counts the requests a check queues.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import engine as engine_module
from mistral.engine import outbox, recovery
from mistral.engine.engine import Take
from mistral.rpc.payloads import ActionRequest
from mistral.services import definitions

WORKFLOWS = """
version: '2.0'
plain:
  tasks:
    one:
      action: std.echo output=1
      target: workers
      timeout: 30
rerunnable:
  tasks:
    one:
      action: std.echo output=1
      safe-rerun: true
items:
  tasks:
    each:
      with-items: x in <% range(3) %>
      action: std.echo output=<% $.x %>
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    inner:
      action: std.noop
"""

DELAY = datetime.timedelta(seconds=20)  # [engine] execution_integrity_check_delay
SILENCE = datetime.timedelta(seconds=15 * 20)  # [action_heartbeat] max_missed_heartbeats x check_interval
GIVE_UP = datetime.timedelta(seconds=3600)  # [action_heartbeat] first_heartbeat_timeout


@pytest.fixture(autouse=True)
def _workflows(db: str, sent: list[outbox.Outbox], monkeypatch: pytest.MonkeyPatch) -> None:
    definitions.create_workflows(WORKFLOWS)
    # NOTE: as in a process with no engine started: silence is judged at once.
    monkeypatch.setattr(recovery, "_engine_started_at", None)


def _requests(sent: list[outbox.Outbox]) -> list[ActionRequest]:
    """The action requests queued since the last call, forgotten once counted."""
    found = [request for box in sent for request in box.actions]
    sent.clear()
    return found


def _start(name: str, sent: list[outbox.Outbox]) -> tuple[str, models.ActionExecution]:
    """Start ``name`` (its first step sends one action); answer the execution and that action."""
    wf_ex_id = engine_module.get().start_workflow(name)["id"]
    (request,) = _requests(sent)
    return wf_ex_id, db_api.get_action_execution(request.action_ex_id)


def _take(action_ex_id: str, executor: str = "exec-a") -> None:
    assert engine_module.get().take_actions([Take(executor, action_ex_id, "r1")])


def _wf_state(wf_ex_id: str) -> str:
    return db_api.get_workflow_execution(wf_ex_id).state


# -- actions nobody took ---------------------------------------------------------------------


def test_an_untaken_action_is_sent_again_once_per_delay(sent: list[outbox.Outbox]) -> None:
    _, action_ex = _start("plain", sent)
    later = action_ex.sent_at + DELAY + datetime.timedelta(seconds=1)
    recovery.resend_untaken_actions(later)
    assert [r.action_ex_id for r in _requests(sent)] == [action_ex.id]
    recovery.resend_untaken_actions(later)
    recovery.resend_untaken_actions(later + DELAY - datetime.timedelta(seconds=1))
    assert _requests(sent) == [], "sent again at `later`: not again before another delay"
    recovery.resend_untaken_actions(later + DELAY + datetime.timedelta(seconds=1))
    assert len(_requests(sent)) == 1


def test_the_request_sent_again_is_the_first_one(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = engine_module.get().start_workflow("plain")["id"]
    (first,) = _requests(sent)
    recovery.resend_untaken_actions(utcnow() + DELAY + datetime.timedelta(seconds=1))
    (again,) = _requests(sent)
    assert again == first and (again.target, again.timeout) == ("workers", 30)
    assert again.context["workflow_execution_id"] == wf_ex_id and not again.redelivered


def test_an_action_sent_within_the_delay_is_left_to_its_message(sent: list[outbox.Outbox]) -> None:
    _, action_ex = _start("plain", sent)
    recovery.resend_untaken_actions(action_ex.sent_at + DELAY - datetime.timedelta(seconds=1))
    assert _requests(sent) == []


def test_a_taken_or_finished_action_is_never_sent_again(sent: list[outbox.Outbox]) -> None:
    _, taken = _start("plain", sent)
    wf_ex_id, finished = _start("plain", sent)
    _take(taken.id)
    engine_module.get().on_action_results([{"action_ex_id": finished.id, "data": 1}])
    sent.clear()
    recovery.resend_untaken_actions(utcnow() + DELAY + datetime.timedelta(seconds=1))
    assert _requests(sent) == [] and _wf_state(wf_ex_id) == "SUCCESS"


def test_no_delay_turns_the_resend_off(sent: list[outbox.Outbox], override_conf: Any) -> None:
    override_conf("engine", "execution_integrity_check_delay", 0)
    _start("plain", sent)
    recovery.resend_untaken_actions(utcnow() + GIVE_UP * 2)
    assert _requests(sent) == []


def test_an_action_nobody_takes_in_time_fails_with_the_reason(sent: list[outbox.Outbox]) -> None:
    wf_ex_id, action_ex = _start("plain", sent)
    recovery.resend_untaken_actions(action_ex.offered_at + GIVE_UP + datetime.timedelta(seconds=1))
    failed = db_api.get_action_execution(action_ex.id)
    assert failed.state == "ERROR" and failed.result_applied
    assert "No executor took this action within 3600 s" in (failed.state_info or "")
    assert _wf_state(wf_ex_id) == "ERROR"
    assert _requests(sent) == [], "failed, not sent again"


def test_without_a_give_up_time_an_untaken_action_waits_forever(
    sent: list[outbox.Outbox], override_conf: Any
) -> None:
    override_conf("action_heartbeat", "first_heartbeat_timeout", 0)
    _, action_ex = _start("plain", sent)
    recovery.resend_untaken_actions(utcnow() + GIVE_UP * 24)
    assert len(_requests(sent)) == 1 and db_api.get_action_execution(action_ex.id).state == "RUNNING"


def test_the_give_up_time_counts_from_the_offer_and_created_at_is_left_alone(
    sent: list[outbox.Outbox],
) -> None:
    _, action_ex = _start("plain", sent)
    created_at = action_ex.created_at
    _take(action_ex.id)
    given_back_at = utcnow() + GIVE_UP  # its executor stopped an hour later, before running it
    with db_api.transaction():
        db_api.release_taken_actions([action_ex.id], "exec-a", given_back_at)
    recovery.resend_untaken_actions(given_back_at + DELAY + datetime.timedelta(seconds=1))
    again = db_api.get_action_execution(action_ex.id)
    assert again.state == "RUNNING" and len(_requests(sent)) == 1, "an hour after its creation, not its offer"
    assert again.offered_at == given_back_at and again.created_at == created_at


# -- actions whose executor went silent -------------------------------------------------------


def _silent(name: str, sent: list[outbox.Outbox]) -> tuple[str, models.ActionExecution, datetime.datetime]:
    wf_ex_id, action_ex = _start(name, sent)
    _take(action_ex.id)
    heard = db_api.get_action_execution(action_ex.id).last_heartbeat
    assert heard is not None
    return wf_ex_id, action_ex, heard + SILENCE + datetime.timedelta(seconds=1)


def test_a_silent_action_safe_to_rerun_is_sent_again_once_as_redelivered(sent: list[outbox.Outbox]) -> None:
    _, action_ex, later = _silent("rerunnable", sent)
    recovery.handle_silent_actions(later)
    recovery.handle_silent_actions(later)
    (request,) = _requests(sent)
    assert request.action_ex_id == action_ex.id and request.redelivered and request.safe_rerun
    given_back = db_api.get_action_execution(action_ex.id)
    assert (given_back.state, given_back.taken_at, given_back.executor_host) == ("RUNNING", None, None)
    assert given_back.offered_at == later


def test_a_silent_action_not_safe_to_rerun_fails_and_is_not_sent(sent: list[outbox.Outbox]) -> None:
    wf_ex_id, action_ex, later = _silent("plain", sent)
    recovery.handle_silent_actions(later)
    failed = db_api.get_action_execution(action_ex.id)
    assert failed.state == "ERROR"
    assert (failed.state_info or "").startswith("Heartbeat lost: executor exec-a took this action")
    assert "safe-rerun: true" in (failed.state_info or "")
    assert _requests(sent) == [] and _wf_state(wf_ex_id) == "ERROR"


def test_an_action_heard_from_lately_is_left_running(sent: list[outbox.Outbox]) -> None:
    _, action_ex, later = _silent("plain", sent)
    recovery.handle_silent_actions(later - datetime.timedelta(seconds=2))
    assert _requests(sent) == [] and db_api.get_action_execution(action_ex.id).state == "RUNNING"


def test_a_started_asynchronous_action_is_never_silent(sent: list[outbox.Outbox]) -> None:
    _, action_ex, later = _silent("plain", sent)
    engine_module.get().on_action_results([{"action_ex_id": action_ex.id, "started": True}])
    sent.clear()
    recovery.handle_silent_actions(later + GIVE_UP)
    assert _requests(sent) == [] and db_api.get_action_execution(action_ex.id).state == "RUNNING"


# -- executions whose first step was lost -----------------------------------------------------


def test_an_unstarted_execution_is_started_once(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = engine_module.get().start_workflow("items", send_first_step=False)["id"]
    assert db_api.find_task_executions(wf_ex_id) == []
    later = db_api.get_workflow_execution(wf_ex_id).created_at + DELAY + datetime.timedelta(seconds=1)
    recovery.start_unstarted_executions(later)
    recovery.start_unstarted_executions(later)
    assert len(_requests(sent)) == 3, "its three items, once"
    assert [t.name for t in db_api.find_task_executions(wf_ex_id)] == ["each"]
    assert db_api.get_workflow_execution(wf_ex_id).first_step_done


def test_an_execution_whose_start_message_may_be_on_its_way_is_left_to_it(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = engine_module.get().start_workflow("items", send_first_step=False)["id"]
    created_at = db_api.get_workflow_execution(wf_ex_id).created_at
    recovery.start_unstarted_executions(created_at + DELAY - datetime.timedelta(seconds=1))
    assert _requests(sent) == [] and db_api.find_task_executions(wf_ex_id) == []


def test_an_execution_paused_before_its_first_step_is_not_started(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = engine_module.get().start_workflow("items", send_first_step=False)["id"]
    engine_module.get().pause_workflow(wf_ex_id)
    recovery.start_unstarted_executions(utcnow() + DELAY * 2)
    assert _requests(sent) == [] and db_api.find_task_executions(wf_ex_id) == []


# -- sub-workflows whose parent never heard -----------------------------------------------------


def _run_first_steps(sent: list[outbox.Outbox]) -> None:
    ids = [wf_ex_id for box in sent for wf_ex_id in box.first_steps]
    if ids:
        engine_module.get().run_first_steps(ids)


def test_a_finished_sub_workflow_is_delivered_to_its_parent_once(sent: list[outbox.Outbox]) -> None:
    parent_id = engine_module.get().start_workflow("parent")["id"]
    _run_first_steps(sent)
    (request,) = _requests(sent)
    engine_module.get().on_action_results([{"action_ex_id": request.action_ex_id, "data": None}])
    lost = [i for box in sent for i in box.finished_subworkflows]  # the message that got lost
    (child,) = db_api.list_sub_executions([parent_id])
    assert lost == [child.id] and _wf_state(parent_id) == "RUNNING"
    assert db_api.find_unreported_subworkflows(limit=10) == [child.id]

    recovery.redeliver_subworkflow_results()

    assert _wf_state(parent_id) == "SUCCESS"
    assert db_api.get_workflow_execution(child.id).reported_to_parent
    assert db_api.find_unreported_subworkflows(limit=10) == []


# -- the job ------------------------------------------------------------------------------------


def test_the_recovery_job_runs_every_check_and_schedules_its_next_run(
    sent: list[outbox.Outbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    for name in ("resend_untaken_actions", "start_unstarted_executions", "handle_silent_actions",
                 "redeliver_subworkflow_results"):  # fmt: skip
        monkeypatch.setattr(recovery, name, lambda name=name: ran.append(name))
    with db_api.transaction():
        recovery.recover()
    assert ran == [
        "resend_untaken_actions", "start_unstarted_executions", "handle_silent_actions",
        "redeliver_subworkflow_results",
    ]  # fmt: skip
    assert db_api.count_scheduled_jobs(recovery.JOB) == 1
    recovery.ensure_scheduled()
    assert db_api.count_scheduled_jobs(recovery.JOB) == 1, "its key keeps it single"
