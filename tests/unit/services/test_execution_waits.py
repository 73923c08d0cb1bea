"""``execution_waits.derive``: what each unfinished task waits for, decided from rows (no database)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral.db import models
from mistral.engine import policy_decisions
from mistral.services import execution_waits as waits
from mistral.services.execution_waits import Facts, Join, Reason

T0 = datetime.datetime(2026, 1, 2, 3, 4, 5)


def at(seconds: int) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def wf(state: str = "RUNNING", **values: Any) -> models.WorkflowExecution:
    return models.WorkflowExecution(id="wf-1", workflow_name="wf", state=state, **values)


def task(name: str, state: str, runtime: dict[str, Any] | None = None, **values: Any) -> models.TaskExecution:
    return models.TaskExecution(
        id=f"t-{name}", name=name, state=state, workflow_execution_id="wf-1", runtime_context=runtime,
        **values,
    )  # fmt: skip


def action(id: str, **values: Any) -> models.ActionExecution:
    values.setdefault("is_sync", True)
    return models.ActionExecution(id=id, name="std.echo", state="RUNNING", created_at=T0, **values)


def reasons(facts: Facts) -> dict[str, list[Reason]]:
    return {w.task_ex.name: list(w.reasons) for w in waits.derive(facts)}


def test_the_delay_jobs_are_the_engines() -> None:
    assert waits.DELAY_JOBS == {
        policy_decisions.RESUME_DELAYED: waits.WAIT_BEFORE,
        policy_decisions.RETRY: waits.RETRY,
        policy_decisions.FINISH_DELAYED: waits.WAIT_AFTER,
    }


def test_finished_tasks_wait_for_nothing() -> None:
    done = [task("a", "SUCCESS"), task("b", "ERROR"), task("c", "SKIPPED")]
    assert waits.derive(Facts(wf(), done)) == []


def test_a_join_names_the_inbound_tasks_still_to_come() -> None:
    joined = task("j", "WAITING", {"join": {"arrived": 1, "missed": 0}})
    facts = Facts(wf(), [joined], joins={"j": Join(("a", "b", "c"), 3, frozenset({"a"}))})
    (reason,) = reasons(facts)["j"]
    assert reason.kind == waits.JOIN
    assert reason.data == {"required": 3, "arrived": 1, "missed": 0, "inbound": ["a", "b", "c"],
                           "waiting_for": ["b", "c"]}  # fmt: skip
    assert reason.message == "Waits for 2 more of its inbound tasks (join: 1 of 3): 'b', 'c'"


@pytest.mark.parametrize(
    ("func", "kind", "words"),
    [
        (policy_decisions.RESUME_DELAYED, waits.WAIT_BEFORE, "Starts at 2026-01-02 03:04:35 (wait-before)"),
        (policy_decisions.FINISH_DELAYED, waits.WAIT_AFTER, "Completes at 2026-01-02 03:04:35 (wait-after)"),
    ],
)
def test_a_delay_says_until_when_from_its_job(func: str, kind: str, words: str) -> None:
    delayed = task("d", "DELAYED")
    job = models.ScheduledJob(key="delay:t-d", func_name=func, run_after=at(30))
    (reason,) = reasons(Facts(wf(), [delayed], jobs={"delay:t-d": job}))["d"]
    assert (reason.kind, reason.message, reason.data) == (kind, words, {"until": "2026-01-02 03:04:35"})


def test_a_retry_shows_the_next_attempt_time_even_while_its_job_runs() -> None:
    runtime = {"retry_no": 2, "next_retry_at": at(40).isoformat()}
    retried = task("r", "DELAYED", runtime)
    job = models.ScheduledJob(key="delay:t-r", func_name=policy_decisions.RETRY, run_after=at(40))
    expected = Reason(
        waits.RETRY,
        "Attempt 3 starts at 2026-01-02 03:04:45 (retry)",
        {"until": "2026-01-02 03:04:45", "retry_no": 2, "next_attempt_at": "2026-01-02 03:04:45"},
    )
    assert reasons(Facts(wf(), [retried], jobs={"delay:t-r": job}))["r"] == [expected]
    assert reasons(Facts(wf(), [retried]))["r"] == [expected]  # claimed: the job is gone for now
    assert waits.next_retry_at(retried) == "2026-01-02 03:04:45"
    assert waits.next_retry_at(task("r", "RUNNING", runtime)) is None


def test_actions_queued_running_and_awaiting_their_async_result() -> None:
    queued = action("a1", sent_at=at(1), offered_at=at(1))
    running = action("a2", sent_at=at(1), taken_at=at(2), executor_host="exec-1", last_heartbeat=at(9))
    started = action("a3", taken_at=at(2), executor_host="exec-2", last_heartbeat=None, is_sync=False)
    busy = task("t", "RUNNING")
    got = reasons(Facts(wf(), [busy], actions={"t-t": [queued, running, started]}))["t"]
    assert [r.kind for r in got] == [waits.EXECUTOR, waits.EXECUTOR, waits.ASYNC_RESULT]
    assert got[0].data["queued_since"] == "2026-01-02 03:04:06" and "none has taken it" in got[0].message
    assert (got[1].data["executor"], got[1].data["last_heartbeat"]) == ("exec-1", "2026-01-02 03:04:14")
    assert "last heartbeat 2026-01-02 03:04:14" in got[1].message
    assert "exec-2" in got[2].message and "asynchronous result" in got[2].message


def test_the_worker_queue_hook_answers_for_its_actions() -> None:
    on_queue = action("a1")
    mine = Reason(waits.WORKER_QUEUE, "On queue 'gpu' since ...", {"queue": "gpu"})
    running = {"t-t": [on_queue, action("a2")]}
    facts = Facts(wf(), [task("t", "RUNNING")], actions=running, queued={"a1": mine})
    assert [r.kind for r in reasons(facts)["t"]] == [waits.WORKER_QUEUE, waits.EXECUTOR]
    assert waits.worker_queue_waits([on_queue]) == {}  # NOTE: until the worker queues are merged


def test_with_items_under_a_concurrency_limit() -> None:
    progress = {"count": 10, "done": 3, "failed": 0, "next": 5, "concurrency": 2}
    (reason,) = reasons(Facts(wf(), [task("w", "RUNNING", {"with_items": progress})]))["w"]
    assert reason.message == "3 of 10 items done, 2 running; 5 wait for a free slot (concurrency 2)"
    assert reason.data == {"count": 10, "done": 3, "failed": 0, "running": 2, "waiting": 5, "concurrency": 2}


def test_with_items_beyond_the_window() -> None:
    progress = {"count": 30000, "done": 3, "failed": 1, "next": 10000, "concurrency": 0}
    (reason,) = reasons(Facts(wf(), [task("w", "RUNNING", {"with_items": progress})]))["w"]
    assert reason.message == (
        "3 of 30000 items done, 9997 running; 20000 wait to be launched as others end"
        " ([engine] with_items_window)"
    )


def test_a_sub_workflow_and_a_paused_parent() -> None:
    parent = models.WorkflowExecution(id="p-1", workflow_name="parent", state="PAUSED", state_info="by me")
    child = models.WorkflowExecution(id="c-1", workflow_name="child", state="RUNNING")
    calling = task("call", "RUNNING", type="WORKFLOW")
    got = reasons(Facts(wf(), [calling], subs={"t-call": [child]}, paused=parent))["call"]
    assert [r.kind for r in got] == [waits.SUB_WORKFLOW, waits.PAUSED]
    assert got[0].data == {"execution_id": "c-1", "workflow_name": "child", "state": "RUNNING"}
    assert got[1].message == "Its parent execution 'parent' p-1 is paused"


def test_a_paused_workflow_and_pause_before() -> None:
    paused = wf("PAUSED", state_info="Paused before task 'h' (pause-before)")
    held = task("h", "IDLE", {"pause_before_done": True})
    got = reasons(Facts(paused, [held], paused=paused))["h"]
    assert [r.kind for r in got] == [waits.PAUSE_BEFORE, waits.PAUSED]
    assert got[1].message == "Its workflow is paused: Paused before task 'h' (pause-before)"


def test_a_running_task_with_nothing_running_yet_is_starting() -> None:
    assert [r.kind for r in reasons(Facts(wf(), [task("s", "RUNNING")]))["s"]] == [waits.STARTING]


def test_to_dict_is_the_api_shape() -> None:
    (entry,) = waits.derive(Facts(wf(), [task("s", "RUNNING")]))
    assert entry.to_dict() == {
        "task_execution_id": "t-s",
        "task_name": "s",
        "state": "RUNNING",
        "workflow_execution_id": "wf-1",
        "reasons": [{"kind": "starting", "message": "Running: its action or sub-workflow is being created",
                     "data": {}}],
    }  # fmt: skip
