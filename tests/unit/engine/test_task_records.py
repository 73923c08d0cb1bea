"""The task's runtime bookkeeping: typed on the way in and out, plain JSON in the row."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

from mistral.engine import task_records
from mistral.engine.task_records import JoinCounts, PendingOutcome, TaskRuntime, WithItemsProgress


def _task(runtime_context: Any = None) -> Any:
    return SimpleNamespace(runtime_context=runtime_context)


def test_an_empty_row_reads_as_the_defaults() -> None:
    assert task_records.runtime(_task()) == TaskRuntime()


def test_what_is_written_is_plain_json_and_reads_back_the_same() -> None:
    task = _task({})
    written = task_records.update_runtime(
        task,
        retry_no=2,
        join=JoinCounts(arrived=1, missed=2, missed_by=("b-1", "c-1")),
        with_items=WithItemsProgress(count=5, done=1, next=3, concurrency=3),
        pending=PendingOutcome("ERROR", {"x": 1}, "boom"),
    )
    assert json.loads(json.dumps(task.runtime_context)) == task.runtime_context
    assert task.runtime_context["join"] == {"arrived": 1, "missed": 2, "missed_by": ["b-1", "c-1"]}
    assert task_records.runtime(task) == written


def test_keys_of_an_older_or_newer_engine_are_ignored() -> None:
    task = _task({"retry_no": 1, "something_else": True})
    assert task_records.runtime(task) == TaskRuntime(retry_no=1)


def test_a_rerun_starts_retries_and_timeout_afresh_but_keeps_the_before_policies_done() -> None:
    task = _task({})
    task_records.update_runtime(
        task, retry_no=3, timed_out=True, timeout_scheduled=True, wait_before_done=True,
        pause_before_done=True, wait_after_done=True, pending=PendingOutcome(), join=JoinCounts(2, 0),
        rerun_no=1,
    )  # fmt: skip
    after = task_records.reset_for_rerun(task)
    assert after == TaskRuntime(
        rerun_no=2, wait_before_done=True, pause_before_done=True, join=JoinCounts(2, 0)
    )
    assert task_records.runtime(task) == after
    assert task.runtime_context == {
        "rerun_no": 2, "wait_before_done": True, "pause_before_done": True,
        "join": {"arrived": 2, "missed": 0},
    }  # fmt: skip


#: A value other than the default for every field of TaskRuntime.
NOT_DEFAULT: dict[str, Any] = {
    "retry_no": 3,
    "next_retry_at": "2030-01-02T03:04:05.000006",
    "rerun_no": 1,
    "pause_before_done": True,
    "wait_before_done": True,
    "wait_after_done": True,
    "pending": PendingOutcome("ERROR", {"x": 1}, "boom"),
    "timeout_scheduled": True,
    "timed_out": True,
    "join": JoinCounts(2, 1),
    "with_items": WithItemsProgress(count=4, done=4, failed=1, next=4),
    "superseded_by": "t-1",
}


def test_every_runtime_field_is_either_reset_or_kept_by_a_rerun_on_purpose() -> None:
    fields = {f.name for f in dataclasses.fields(TaskRuntime)}
    assert set(NOT_DEFAULT) == fields, "a new TaskRuntime field: give it a value here"
    before = TaskRuntime(**NOT_DEFAULT)
    after = before.reset_for_rerun()
    kept = {name for name in fields if getattr(after, name) == getattr(before, name)}
    assert kept == set(task_records.KEPT_ON_RERUN), (
        "a field a re-run neither resets nor lists in task_records.KEPT_ON_RERUN"
    )
    assert after.rerun_no == before.rerun_no + 1
    reset = fields - kept - {"rerun_no"}
    assert all(getattr(after, name) == getattr(TaskRuntime(), name) for name in reset)


def test_the_with_items_shortcut_reads_and_writes_what_the_record_does() -> None:
    task = _task({"retry_no": 1})
    task_records.set_with_items_progress(task, WithItemsProgress(count=3, done=1, next=2))
    assert task_records.runtime(task) == TaskRuntime(
        retry_no=1, with_items=WithItemsProgress(count=3, done=1, next=2)
    )
    assert task_records.with_items_progress(task) == WithItemsProgress(count=3, done=1, next=2)
    assert task_records.with_items_progress(_task()) == WithItemsProgress()
