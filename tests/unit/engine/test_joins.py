"""A join reached by many branches in one result batch reads its task once, and counts every branch."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.engine import engine as engine_module
from mistral.rpc import clients
from mistral.services import definitions

pytestmark = pytest.mark.usefixtures("db")

WIDTH = 20
FAN_OUT = "version: '2.0'\nfan:\n  tasks:\n    start:\n      action: std.noop\n      on-success: [{}]\n{}" \
    "    joined:\n      join: all\n      action: std.noop\n"  # fmt: skip


def _definition() -> str:
    names = [f"t{i}" for i in range(WIDTH)]
    branches = "".join(f"    {n}:\n      action: std.noop\n      on-success: [joined]\n" for n in names)
    return FAN_OUT.format(", ".join(names), branches)


class Executors:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def run_actions(self, requests: list[dict[str, Any]], target: str | None = None) -> None:
        self.sent.extend(requests)


def test_a_batch_of_branch_results_reads_the_join_task_once(monkeypatch: pytest.MonkeyPatch) -> None:
    executors = Executors()
    monkeypatch.setattr(clients, "executor", lambda: executors)
    reads: list[str] = []
    load = db_api.load_task_by_unique_key

    def counted(wf_ex_id: str, key: str) -> Any:
        reads.append(key)
        return load(wf_ex_id, key)

    monkeypatch.setattr(db_api, "load_task_by_unique_key", counted)
    definitions.create_workflows(_definition())
    engine = engine_module.get()
    wf_ex_id = engine.start_workflow("fan")["id"]
    engine.run_first_steps([wf_ex_id])
    engine.on_action_results([{"action_ex_id": executors.sent.pop()["action_ex_id"], "data": None}])
    assert len(executors.sent) == WIDTH
    branches, executors.sent = executors.sent, []
    engine.on_action_results([{"action_ex_id": r["action_ex_id"], "data": None} for r in branches])
    assert reads == ["join:joined"]
    (joined,) = db_api.find_task_executions(wf_ex_id, names=["joined"])
    assert joined.state == "RUNNING" and len(executors.sent) == 1
