"""The with-items queries, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from mistral.db import api as db_api
from mistral.db.session import transaction

pytestmark = pytest.mark.usefixtures("db")


def _task_with_items(runs: list[tuple[int | None, str, object]]) -> None:
    """Task t1 with one action per ``(index, state, result)``, inserted in that order."""
    db_api.create_workflow_execution({"id": "wf", "workflow_name": "wf", "state": "RUNNING", "spec": {}})
    with transaction():
        db_api.create_task_execution(
            {"id": "t1", "name": "t1", "workflow_execution_id": "wf", "state": "RUNNING"}
        )
    for number, (index, state, result) in enumerate(runs):
        runtime = {"system_name": "std.echo", "transforms": []}
        if index is not None:
            runtime["index"] = index
        row = {
            "id": f"a{number:02d}",
            "name": "std.echo",
            "task_execution_id": "t1",
            "state": state,
            "runtime_context": runtime,
            "output": {"result": result},
        }
        db_api.insert_action_executions([row])


def test_item_outcomes_give_each_actions_index_and_column_in_creation_order() -> None:
    _task_with_items(
        [(1, "SUCCESS", {"b": [1]}), (0, "ERROR", "boom"), (0, "SUCCESS", 0), (None, "SUCCESS", "x")]
    )
    with transaction(read_only=True):
        outputs = db_api.find_item_outcomes("t1", "output")
        states = db_api.find_item_outcomes("t1", "state")
    assert outputs == [
        (1, {"result": {"b": [1]}}),
        (0, {"result": "boom"}),
        (0, {"result": 0}),
        (0, {"result": "x"}),
    ]
    assert states == [(1, "SUCCESS"), (0, "ERROR"), (0, "SUCCESS"), (0, "SUCCESS")]


def test_item_outcomes_of_a_task_without_actions_are_empty() -> None:
    with transaction(read_only=True):
        assert db_api.find_item_outcomes("nope", "output") == []
