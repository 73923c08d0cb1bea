"""bench/workflows.py: the generated documents are valid YAML of the intended shape.

These were the offline ``--self-check`` of bench/run.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from bench import workflows


@pytest.mark.parametrize("key,build", sorted(workflows.WF_BUILDERS.items()))
def test_document_round_trips_through_yaml(key: str, build: Callable[[], dict]) -> None:
    doc = workflows.wf_doc(f"bench_{key}_test", build())
    assert yaml.safe_load(workflows.to_yaml(doc)) == doc


def test_yaml_quotes_the_strings_yaml_would_read_as_something_else() -> None:
    doc = {"a": "yes", "b": "On", "c": "<% $.v + 1 %>", "d": None, "e": True, "f": "1", "g": "", "h": 1.5}
    doc["i"] = [{"x": "null", "y": "a: b"}]
    assert yaml.safe_load(workflows.to_yaml(doc)) == doc


@pytest.mark.parametrize("key,build", sorted(workflows.WF_BUILDERS.items()))
def test_transitions_name_tasks_of_the_same_workflow(key: str, build: Callable[[], dict]) -> None:
    tasks = build()["tasks"]
    targets = {nxt for task in tasks.values() for nxt in task.get("on-success", [])}
    assert targets <= set(tasks)


def test_task_counts_match_the_workload_names() -> None:
    assert len(workflows.fanout_wf(1000)["tasks"]) == 1002  # start, 1000, join_all
    assert len(workflows.chain_wf(workflows.CHAIN_LEN)["tasks"]) == workflows.CHAIN_LEN == 50


def test_with_items_input_document_is_the_issue_shape() -> None:
    task = workflows.with_items_input_wf()["tasks"]["items"]
    assert task["with-items"] == "x in <% $.nums %>"
    assert task["input"] == {"output": "<% $.x * 3 %>"}
    assert task["publish"] == {"r": "<% task().result %>"}


def test_the_warm_up_runs_the_tasks_of_chain_50() -> None:
    """Expressions, publish and hops from one task to the next: the paths the timed workloads take."""
    warm_up = workflows.WF_BUILDERS["warmup"]()
    assert list(warm_up["tasks"].values()) == list(
        workflows.chain_wf(workflows.WARM_UP_CHAIN_LEN)["tasks"].values()
    )
