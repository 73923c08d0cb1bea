"""action_owners: the owners of actions this engine inserted are known without a query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mistral.engine import action_owners


@pytest.fixture(autouse=True)
def _empty() -> Iterator[None]:
    action_owners.clear()
    yield
    action_owners.clear()


@pytest.fixture
def queried(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def find_action_owners(ids: list[str]) -> dict[str, Any]:
        calls.append(list(ids))
        return {i: ("task-db", "wf-db") for i in ids if i.startswith("stored")}

    monkeypatch.setattr(action_owners.db_api, "find_action_owners", find_action_owners)
    return calls


def _row(id: str, task: str | None = "t1", wf: str | None = "w1") -> dict[str, Any]:
    runtime = {"workflow_execution_id": wf} if wf else {}
    return {"id": id, "task_execution_id": task, "runtime_context": runtime}


def test_remembered_owners_need_no_query(queried: list[list[str]]) -> None:
    action_owners.remember([_row("a1"), _row("a2", "t2", "w2")])
    assert action_owners.find(["a1", "a2"]) == {"a1": ("t1", "w1"), "a2": ("t2", "w2")}
    assert queried == []


def test_unknown_ones_are_queried_and_a_looked_up_entry_is_gone(queried: list[list[str]]) -> None:
    action_owners.remember([_row("a1")])
    assert action_owners.find(["a1", "stored-1", "nowhere"]) == {
        "a1": ("t1", "w1"),
        "stored-1": ("task-db", "wf-db"),
    }
    assert queried == [["stored-1", "nowhere"]]
    # NOTE: a repeated result is looked up in the database, which says whether it still runs.
    action_owners.find(["a1"])
    assert queried[-1] == ["a1"]


def test_ad_hoc_actions_are_not_remembered(queried: list[list[str]]) -> None:
    action_owners.remember([_row("adhoc", task=None, wf=None)])
    action_owners.find(["adhoc"])
    assert queried == [["adhoc"]]


def test_the_oldest_entries_leave_past_the_limit(
    queried: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(action_owners, "MAX_ENTRIES", 2)
    action_owners.remember([_row("a1"), _row("a2"), _row("a3")])
    action_owners.find(["a1", "a2", "a3"])
    assert queried == [["a1"]]
