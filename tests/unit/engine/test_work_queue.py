"""Actions for external workers: queued as work items, never sent to an executor, their result taken once.

Driven through the engine's own calls with nothing leaving the process (``sent`` records
each outbox), so each test counts what would have been sent.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import engine as engine_module
from mistral.engine import outbox, recovery, timers, work_queue
from mistral.engine.applier import BatchApplier
from mistral.exceptions import ConflictError, ServiceUnavailable
from mistral.services import definitions

WORKFLOWS = """
version: '2.0'
external:
  tasks:
    ask:
      action: std.external question=<% 6 * 7 %>
      tags: [human]
      publish:
        answer: <% task().result.answer %>
queued:
  task-defaults:
    queue: shared
    retry:
      count: 2
      delay: 0
  tasks:
    echo:
      action: std.echo output=1
many:
  tasks:
    each:
      with-items: i in <% range(3) %>
      action: std.external i=<% $.i %>
slow:
  tasks:
    wait:
      action: std.external
      queue: slow
      timeout: 60
mixed:
  tasks:
    each:
      with-items: name in [std.noop, std.external]
      action: <% $.name %>
"""


@pytest.fixture(autouse=True)
def _workflows(db: str, sent: list[outbox.Outbox]) -> None:
    definitions.create_workflows(WORKFLOWS)


def _start(name: str) -> str:
    """Start ``name`` and run its first step here (a with-items start leaves it to a message)."""
    wf_ex_id = engine_module.get().start_workflow(name)["id"]
    engine_module.get().run_first_steps([wf_ex_id])
    return wf_ex_id


def _requests(sent: list[outbox.Outbox]) -> list[Any]:
    return [request for box in sent for request in box.actions]


def _claim(queue: str, lease: float = 30, now: datetime.datetime | None = None) -> list[Any]:
    return db_api.claim_work_items(
        context.DEFAULT_PROJECT_ID, queue, [], limit=10, lease=lease, worker="w", now=now or utcnow()
    )


def test_std_external_is_queued_taken_by_its_queue_and_never_sent(sent: list[outbox.Outbox]) -> None:
    wf_ex_id = engine_module.get().start_workflow("external")["id"]
    assert _requests(sent) == []
    (item,) = _claim("default")
    action_ex = db_api.get_action_execution(item.action_execution_id)
    assert (item.task_name, item.tags, item.input, item.max_attempts) == (
        "ask",
        ["human"],
        {"question": 42},
        1,
    )
    assert action_ex.state == "RUNNING" and action_ex.executor_host == "queue:default" and action_ex.taken_at
    assert action_ex.last_heartbeat is None and not action_ex.is_sync
    # NOTE: recovery neither sends it again nor finds it silent.
    recovery.resend_untaken_actions(utcnow() + datetime.timedelta(hours=2))
    recovery.handle_silent_actions(utcnow() + datetime.timedelta(hours=2))
    assert _requests(sent) == []

    engine_module.get().complete_action(item.action_execution_id, {"data": {"answer": 42}}, item.lease_token)
    assert db_api.get_workflow_execution(wf_ex_id).state == "SUCCESS"
    assert db_api.get_work_item(item.id).state == "done"
    with pytest.raises(ConflictError, match="is done"):
        engine_module.get().complete_action(item.action_execution_id, {"data": {}}, item.lease_token)


def test_queue_of_task_defaults_and_attempts_from_the_retry_count(sent: list[outbox.Outbox]) -> None:
    engine_module.get().start_workflow("queued")
    (item,) = _claim("shared", lease=1)
    assert item.input == {"output": 1} and item.max_attempts == 3 and _requests(sent) == []


def test_a_with_items_task_sends_what_executors_run_and_queues_the_rest(sent: list[outbox.Outbox]) -> None:
    _start("mixed")
    (request,) = _requests(sent)
    (item,) = _claim("default")
    assert db_api.get_action_execution(request.action_ex_id).name == "std.noop"
    assert db_api.get_action_execution(item.action_execution_id).name == "std.external"


def test_a_result_without_the_claims_token_is_refused_once_another_claim_holds_it() -> None:
    wf_ex_id = engine_module.get().start_workflow("external")["id"]
    (item,) = _claim("default")
    with pytest.raises(ConflictError, match="no longer held"):
        engine_module.get().complete_action(item.action_execution_id, {"data": {}}, "someone-elses")
    # NOTE: without a token the first result wins.
    engine_module.get().complete_action(item.action_execution_id, {"error": "no idea"})
    assert db_api.get_workflow_execution(wf_ex_id).state == "ERROR"


def test_expired_leases_are_queued_again_then_fail_the_action() -> None:
    wf_ex_id = engine_module.get().start_workflow("external")["id"]
    (item,) = _claim("default", lease=1)
    recovery.expire_work_leases(utcnow() + datetime.timedelta(seconds=5))
    assert db_api.get_work_item(item.id).state == "failed"
    wf_ex = db_api.get_workflow_execution(wf_ex_id)
    assert wf_ex.state == "ERROR" and "lease expired 1 times" in (wf_ex.state_info or "")


def test_settle_accepts_the_holders_result_once() -> None:
    class Item:
        id, state, lease_token, attempt = "i", "claimed", "t1", 1

    item: Any = Item()
    with pytest.raises(ConflictError):
        work_queue.settle(item, "t0")
    work_queue.settle(item, "t1")
    assert item.state == "done"
    with pytest.raises(ConflictError):
        work_queue.settle(item, None)
    work_queue.settle(None, "anything")  # an action of no queue: nothing to settle


def test_workers_results_in_one_batch_count_once_each_and_the_stale_ones_are_refused() -> None:
    wf_ex_id = _start("many")
    first, second, third = _claim("default")
    engine = engine_module.get()
    entries = [
        work_queue.result_entry(db_api.get_action_execution(item.action_execution_id), {"data": n}, token)
        for n, (item, token) in enumerate(
            [(first, first.lease_token), (second, second.lease_token), (second, second.lease_token),
             (third, "someone-elses")]
        )
    ]  # fmt: skip
    accepted = engine.on_action_results(entries)
    # NOTE: the second copy of the second result comes after the first in the batch: refused.
    assert accepted is not None and [entries.index(e) for e in accepted] == [0, 1]
    assert [db_api.get_work_item(i.id).state for i in (first, second, third)] == ["done", "done", "claimed"]
    outputs = [db_api.get_action_execution(i.action_execution_id).output for i in (first, second, third)]
    assert [db_api.get_action_execution(i.action_execution_id).state for i in (first, second, third)] == [
        "SUCCESS",
        "SUCCESS",
        "RUNNING",
    ]
    assert outputs[:2] == [{"result": 0}, {"result": 1}]
    engine.complete_action(third.action_execution_id, {"data": 2}, third.lease_token)
    assert db_api.get_workflow_execution(wf_ex_id).state == "SUCCESS"


@pytest.fixture
def batched() -> Any:
    """The engine applies workers' results through a running results applier, as its server does."""
    engine = engine_module.get()
    applier = BatchApplier("action results", engine.on_action_results)
    applier.start()
    engine.apply_results_through(applier.apply)
    yield applier
    engine.apply_results_through(None)
    applier.stop()


def test_through_the_results_applier_a_result_counts_once_and_a_stale_lease_is_told_why(batched: Any) -> None:
    wf_ex_id = engine_module.get().start_workflow("external")["id"]
    (item,) = _claim("default")
    with pytest.raises(ConflictError, match="no longer held"):
        engine_module.get().complete_action(item.action_execution_id, {"data": {}}, "someone-elses")
    engine_module.get().complete_action(item.action_execution_id, {"data": {"answer": 42}}, item.lease_token)
    assert db_api.get_workflow_execution(wf_ex_id).state == "SUCCESS"
    with pytest.raises(ConflictError, match="is done"):
        engine_module.get().complete_action(item.action_execution_id, {"data": {}}, item.lease_token)


def test_a_result_the_applier_could_not_commit_is_not_taken_and_may_be_sent_again(
    batched: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf_ex_id = engine_module.get().start_workflow("external")["id"]
    (item,) = _claim("default")

    def broken(results: list[dict[str, Any]]) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(batched, "_apply", broken)
    with pytest.raises(ServiceUnavailable, match="send it again"):
        engine_module.get().complete_action(item.action_execution_id, {"data": {}}, item.lease_token)
    assert db_api.get_work_item(item.id).state == "claimed"
    monkeypatch.undo()
    engine_module.get().complete_action(item.action_execution_id, {"data": {"answer": 42}}, item.lease_token)
    assert db_api.get_workflow_execution(wf_ex_id).state == "SUCCESS"


def test_a_task_that_times_out_withdraws_its_item_so_no_worker_runs_it() -> None:
    wf_ex_id = _start("slow")
    (task,) = db_api.find_task_executions(wf_ex_id)
    timers.task_timeout(task.id)
    assert db_api.get_workflow_execution(wf_ex_id).state == "ERROR"
    assert _claim("slow") == []
    (item,) = db_api.list_work_items()
    assert item.state == db_api.WORK_CANCELLED
