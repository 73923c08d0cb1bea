"""Lost work is found again, and nothing runs twice: untaken actions are re-sent, silent ones re-run or fail.

The side effects are counted: each action POSTs to a local hook, so a test sees
a duplicated run, not only the final state.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import engine, recovery, sender
from mistral.engine.outbox import Outbox
from mistral.rpc import clients
from tests.functional import runs
from tests.functional.conftest import Server
from tests.functional.hooks import Hooks
from tests.polling import wait_for


def _workflow(action: str, *, safe_rerun: bool = False, with_items: bool = False) -> str:
    extra = "\n      safe-rerun: true" if safe_rerun else ""
    if with_items:  # NOTE: a first step that iterates runs after the start has answered
        extra += "\n      with-items: i in [1]"
    return f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: {action}{extra}\n"


def _http(hooks: Hooks, key: str, *, mistral: bool = False) -> str:
    name = "std.mistral_http" if mistral else "std.http"
    return f"{name} url={hooks.url}/{key} method=POST"


def _action(ex_id: str) -> Any:
    """The execution's one action, once its first step (which runs after POST answered) created it."""

    def found() -> Any:
        tasks = db_api.find_task_executions(ex_id)
        actions = db_api.find_action_executions(tasks[0].id) if tasks else []
        return actions[0] if actions else None

    return _wait_for("the first step to create the action", found)


def _wait_for(what: str, check: Any, timeout: float = 5) -> Any:
    return wait_for(what, check, timeout, interval=0.02)


def _later(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


@pytest.fixture
def recovery_options(override_conf: Any) -> None:
    override_conf("engine", "execution_integrity_check_delay", 20)
    override_conf("action_heartbeat", "first_heartbeat_timeout", 3600)
    override_conf("action_heartbeat", "check_interval", 20)
    override_conf("action_heartbeat", "max_missed_heartbeats", 15)


pytestmark = pytest.mark.usefixtures("recovery_options")


def test_an_action_lost_between_commit_and_send_is_sent_again_and_runs_once(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    ex_id = runs.start(api, _workflow(_http(hooks, "lost")))
    action = _action(ex_id)
    monkeypatch.undo()
    assert (action.state, action.taken_at) == ("RUNNING", None)
    recovery.resend_untaken_actions(now=_later(5))
    assert hooks.count("/lost") == 0  # not yet: it may still be on its way
    recovery.resend_untaken_actions(now=_later(25))
    runs.wait(api, ex_id, "SUCCESS")
    assert hooks.count("/lost") == 1
    recovery.resend_untaken_actions(now=_later(60))  # taken now: never sent again
    time.sleep(0.2)
    assert hooks.count("/lost") == 1


def test_an_action_delivered_twice_runs_once(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-send of an action whose first copy was only late: whichever arrives first runs, alone."""
    held: list[Any] = []
    # NOTE: only the boxes with actions: the start's box holds the message that runs the first step.
    monkeypatch.setattr(sender, "_send_actions", lambda box: box.actions and held.append(list(box.actions)))
    ex_id = runs.start(api, _workflow(_http(hooks, "late")))
    _action(ex_id)
    recovery.resend_untaken_actions(now=_later(25))
    monkeypatch.undo()
    assert [len(h) for h in held] == [1, 1] and held[0] == held[1]
    sender.send(Outbox(actions=held[0]))
    sender.send(Outbox(actions=held[1]))
    runs.wait(api, ex_id, "SUCCESS")
    time.sleep(0.2)
    assert hooks.count("/late") == 1


def test_an_async_action_is_sent_once_however_long_its_callback_takes(api: Server, hooks: Hooks) -> None:
    ex_id = runs.start(api, _workflow(_http(hooks, "hook", mistral=True)))
    _wait_for("the hook to be called", lambda: hooks.count("/hook") == 1)
    # NOTE: started: it waits for its callback, and no heartbeat is due (none can go missing).
    action = _wait_for("the start to be recorded", lambda: (a := _action(ex_id)).last_heartbeat is None and a)
    assert action.taken_at is not None and action.state == "RUNNING"
    for periods in (1, 2, 3):  # three re-send periods pass without a callback
        recovery.resend_untaken_actions(now=_later(21 * periods))
        recovery.handle_silent_actions(now=_later(21 * periods))
    time.sleep(0.3)
    assert hooks.count("/hook") == 1
    assert hooks.headers["/hook"][0]["Mistral-Action-Execution-Id"] == action.id
    done = api.request("PUT", f"/action_executions/{action.id}", json={"state": "SUCCESS", "output": "{}"})
    assert done.status_code == 200, done.text
    runs.wait(api, ex_id, "SUCCESS")
    assert hooks.count("/hook") == 1


def test_an_action_nobody_takes_fails_after_first_heartbeat_timeout(
    api: Server, monkeypatch: pytest.MonkeyPatch, override_conf: Any
) -> None:
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    ex_id = runs.start(api, _workflow("std.echo output=never"))
    _action(ex_id)
    override_conf("action_heartbeat", "first_heartbeat_timeout", 60)
    recovery.resend_untaken_actions(now=_later(61))
    ex = runs.wait(api, ex_id, "ERROR")
    assert "No executor took this action within 60 s" in ex["state_info"]


def test_an_ad_hoc_action_lost_on_its_way_is_sent_again(api: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    body = {"name": "std.echo", "input": '{"output": "adhoc"}', "params": '{"save_result": true}'}
    created = api.request("POST", "/action_executions", json=body)
    assert created.status_code == 201, created.text
    monkeypatch.undo()
    action_id = created.json()["id"]
    recovery.resend_untaken_actions(now=_later(25))

    def finished() -> Any:
        found = api.request("GET", f"/action_executions/{action_id}").json()
        return found if found["state"] == "SUCCESS" else None

    assert '"adhoc"' in _wait_for("the ad-hoc action to finish", finished)["output"]


def _silent(ex_id: str, hooks: Hooks, key: str) -> Any:
    _wait_for("the action to run", lambda: hooks.count(f"/{key}") == 1)
    action = _action(ex_id)
    # NOTE: as if its executor had died during the call: taken, not started, no heartbeat since.
    with db_api.transaction():
        db_api.update_action_execution(action.id, {"last_heartbeat": utcnow()})
    return action


def test_a_silent_action_that_is_safe_to_rerun_runs_again(api: Server, hooks: Hooks) -> None:
    ex_id = runs.start(api, _workflow(_http(hooks, "safe", mistral=True), safe_rerun=True))
    action = _silent(ex_id, hooks, "safe")
    recovery.handle_silent_actions(now=_later(301))
    _wait_for("the re-run", lambda: hooks.count("/safe") == 2)
    rerun = hooks.headers["/safe"][1]
    assert rerun["Mistral-Action-Execution-Id"] == action.id
    assert db_api.get_action_execution(action.id).taken_at is not None  # taken again, by the re-run
    recovery.handle_silent_actions(now=_later(1))  # alive again: left alone
    time.sleep(0.2)
    assert hooks.count("/safe") == 2


def test_a_silent_action_that_is_not_safe_to_rerun_fails_its_task(api: Server, hooks: Hooks) -> None:
    ex_id = runs.start(api, _workflow(_http(hooks, "unsafe", mistral=True)))
    _silent(ex_id, hooks, "unsafe")
    recovery.handle_silent_actions(now=_later(301))
    ex = runs.wait(api, ex_id, "ERROR")
    assert "Heartbeat lost" in ex["state_info"] and "safe-rerun" in ex["state_info"]
    assert hooks.count("/unsafe") == 1


def test_recovery_leaves_healthy_work_alone(api: Server, hooks: Hooks) -> None:
    ex_id = runs.start(api, _workflow(_http(hooks, "healthy", mistral=True)))
    _wait_for("the hook to be called", lambda: hooks.count("/healthy") == 1)
    recovery.resend_untaken_actions(now=_later(30))
    recovery.handle_silent_actions(now=_later(30))
    recovery.redeliver_subworkflow_results()
    time.sleep(0.2)
    assert api.request("GET", f"/executions/{ex_id}").json()["state"] == "RUNNING"
    assert hooks.count("/healthy") == 1


def test_an_engine_that_starts_sends_again_at_once_what_nobody_took(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "_send_actions", lambda box: None)
    ex_id = runs.start(api, _workflow(_http(hooks, "left")))
    monkeypatch.undo()
    recovery.resend_left_behind()  # as at an engine's start, well before the re-send delay
    runs.wait(api, ex_id, "SUCCESS")
    assert hooks.count("/left") == 1


def test_an_execution_whose_start_was_lost_is_started_by_recovery_once(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash between the execution's commit and the message that runs its first step."""
    monkeypatch.setattr(clients.EngineClient, "run_first_steps", lambda self, ids: None)
    ex_id = runs.start(api, _workflow(_http(hooks, "unstarted"), with_items=True))
    monkeypatch.undo()
    time.sleep(0.2)
    assert db_api.find_task_executions(ex_id) == []
    assert db_api.get_workflow_execution(ex_id).state == "RUNNING"
    recovery.start_unstarted_executions(now=_later(5))
    assert db_api.find_task_executions(ex_id) == []  # not yet: its message may still be on its way
    recovery.start_unstarted_executions(now=_later(25))
    recovery.start_unstarted_executions(now=_later(25))  # a second engine's recovery, or the late message
    engine.get().run_first_steps([ex_id])
    runs.wait(api, ex_id, "SUCCESS")
    time.sleep(0.2)
    assert hooks.count("/unstarted") == 1
    assert len(db_api.find_task_executions(ex_id)) == 1
