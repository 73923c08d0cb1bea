"""One test per fault that used to lose work: each failed before its fix, and counts side effects.

- a results batch that fails (a passing database error) is applied in the end,
- an engine that takes results and dies before committing them loses none,
- a pause/resume/cancel cascade survives a crash between commit and send,
- a take recorded whose answer never reached its executor does not strand the action.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
import sqlalchemy as sa

from mistral.db import api as db_api
from mistral.engine import engine as engine_module
from mistral.engine import sender
from tests.functional import runs
from tests.functional.conftest import Server
from tests.functional.hooks import Hooks


def _http_workflow(hooks: Hooks, key: str) -> str:
    return (
        f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.http url={hooks.url}/{key} method=POST\n"
    )


def _locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT ...", {}, sqlite3.OperationalError("database is locked"))


def _failing_first(monkeypatch: pytest.MonkeyPatch, times: int, error: Any) -> list[int]:
    """The lock and read of the workflows (the first statements of every results batch of a task's
    actions) fail ``times`` times.

    NOTE: not ``find_action_owners``: the engine knows the owners of the actions it inserted.
    """
    calls = [0]
    real = engine_module._lock_and_read

    def flaky(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise error()
        return real(*args)

    monkeypatch.setattr(engine_module, "_lock_and_read", flaky)
    return calls


def test_a_results_batch_that_fails_on_a_passing_database_error_is_applied(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _failing_first(monkeypatch, 2, _locked)
    ex_id = runs.start(
        api, f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.http url={hooks.url}/b method=POST\n"
    )
    runs.wait(api, ex_id, "SUCCESS")
    assert calls[0] >= 3
    assert hooks.count("/b") == 1


def test_results_an_engine_took_and_never_committed_are_sent_again(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the engine died after taking the message: every attempt fails until the executor tries again."""
    # NOTE: a batch is tried whole, then item by item: 4 failures are two deliveries lost.
    calls = _failing_first(monkeypatch, 4, lambda: RuntimeError("engine died before its commit"))
    ex_id = runs.start(
        api, f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.http url={hooks.url}/r method=POST\n"
    )
    runs.wait(api, ex_id, "SUCCESS", timeout=15)
    assert calls[0] > 4
    assert hooks.count("/r") == 1


def test_a_take_recorded_whose_answer_was_lost_is_asked_again_and_runs_once(
    api: Server, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the action stayed taken by an executor that never ran it, until the silence check
    (300 s) failed it."""
    real, answered = db_api.take_action_executions, [0]

    def recorded_then_lost(*args: Any, **kwargs: Any) -> list[str]:
        taken = real(*args, **kwargs)
        answered[0] += 1
        if answered[0] == 1:
            raise RuntimeError("the engine died after its commit, before its answer")
        return taken

    monkeypatch.setattr(db_api, "take_action_executions", recorded_then_lost)
    ex_id = runs.start(api, _http_workflow(hooks, "t"))
    runs.wait(api, ex_id, "SUCCESS", timeout=15)
    assert answered[0] >= 2
    assert hooks.count("/t") == 1


WORKFLOWS = """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    wait:
      action: std.async_noop
"""


@pytest.mark.parametrize(("operation", "state"), [("PAUSED", "PAUSED"), ("CANCELLED", "CANCELLED")])
def test_a_cascade_survives_a_crash_between_commit_and_send(
    api: Server, monkeypatch: pytest.MonkeyPatch, operation: str, state: str
) -> None:
    parent = runs.start(api, WORKFLOWS, "parent")
    deadline = time.monotonic() + 10
    while len(subs := api.request("GET", f"/executions/{parent}/executions").json()["executions"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (child,) = [e["id"] for e in subs if e["id"] != parent]
    # NOTE: nothing queued in memory leaves after the parent's commit, as if its engine died then.
    monkeypatch.setattr(sender, "send", lambda box: box.clear())
    assert api.request("PUT", f"/executions/{parent}", json={"state": operation}).status_code == 200
    monkeypatch.undo()
    runs.wait(api, child, state)
