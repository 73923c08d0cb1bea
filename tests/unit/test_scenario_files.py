"""The scenario fixtures are well formed today, before any engine runs them.

Each file loads, its DSL passes the validator, its start workflow exists and every task
its expectations name is defined. The checker itself is tested on hand-made outcomes.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from mistral import lang
from mistral.lang.specs import WorkflowSpec
from tests.functional import scenario_support
from tests.functional.scenario_support import (
    Outcome,
    Scenario,
    ScenarioError,
    all_scenario_names,
    check,
    contains,
    load_scenario,
)

NAMES = all_scenario_names()
STATES = {
    "IDLE",
    "WAITING",
    "RUNNING",
    "RUNNING_DELAYED",
    "PAUSED",
    "SUCCESS",
    "ERROR",
    "CANCELLED",
    "SKIPPED",
}


def _workflows(scenario: Scenario) -> dict[str, WorkflowSpec]:
    """Every workflow spec the scenario uploads, by full name (the DSL must pass the validator)."""
    specs: list[WorkflowSpec] = []
    if scenario.actions:
        lang.parse_actions(scenario.actions)
    if scenario.workbook:
        specs += lang.parse_workbook(scenario.workbook).workflows
    if scenario.workflow:
        specs += lang.parse_workflows(scenario.workflow).workflows
    return {spec.name: spec for spec in specs}


def test_there_are_enough_scenarios() -> None:
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
def test_scenario_file_is_valid(name: str) -> None:
    scenario = load_scenario(name)
    workflows = _workflows(scenario)
    assert scenario.start in workflows, f"start workflow {scenario.start!r} is not defined"
    start = workflows[scenario.start]
    if start.type == "reverse":
        assert scenario.params.get("task_name") in start.tasks, "a reverse workflow needs params.task_name"
    defined = {task for spec in workflows.values() for task in spec.tasks}
    assert scenario.expect.task_names() <= defined, "expectations name undefined tasks"
    assert {scenario.expect.state or "SUCCESS", *scenario.expect.tasks.values()} <= STATES


def _write(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, text: str) -> str:
    monkeypatch.setattr(scenario_support, "SCENARIOS", tmp_path)
    (tmp_path / "x.yaml").write_text(text)
    return "x"


WF = "workflow: |\n  version: '2.0'\n  wf:\n    tasks:\n      t: {}\nstart: wf\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("description: d\n" + WF + "expect: {state: SUCCESS, tasks_typo: {}}\n", "unknown expect keys"),
        ("description: d\n" + WF + "expect: {output: 1}\n", "exactly one of"),
        (WF + "expect: {state: SUCCESS}\n", "'description' is required"),
        ("description: d\n" + WF + "expect: {state: SUCCESS}\nextra: 1\n", "unknown keys"),
    ],
)
def test_malformed_scenarios_are_refused(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, text: str, complaint: str
) -> None:
    name = _write(tmp_path, monkeypatch, text)
    with pytest.raises(ScenarioError, match=complaint):
        load_scenario(name)


def _task(name: str, state: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "state": state,
        "created_at": start,
        "started_at": start,
        "finished_at": end,
        **extra,
    }


def test_check_accepts_a_matching_outcome() -> None:
    scenario = load_scenario("direct_sequence")
    outcome = Outcome(
        namespace="ns",
        start_status=201,
        start_body={},
        execution={"state": "SUCCESS", "output": {"message": "Hello, World"}},
        tasks=[
            _task(
                "first", "SUCCESS", "2024-01-01 00:00:00", "2024-01-01 00:00:01", published={"word": "Hello"}
            ),
            _task(
                "second",
                "SUCCESS",
                "2024-01-01 00:00:01",
                "2024-01-01 00:00:01",
                published={"message": "Hello, World"},
            ),
            _task("third", "SUCCESS", "2024-01-01 00:00:02", "2024-01-01 00:00:02"),
        ],
    )
    assert check(outcome, scenario) == []


def test_check_reports_every_mismatch() -> None:
    scenario = load_scenario("on_error_handled")
    outcome = Outcome(
        namespace="ns",
        start_status=201,
        start_body={},
        execution={"state": "ERROR", "state_info": "boom", "output": {}},
        tasks=[
            _task("risky", "ERROR", "2024-01-01 00:00:05", "2024-01-01 00:00:06"),
            _task("recover", "SUCCESS", "2024-01-01 00:00:05", "2024-01-01 00:00:05", published={}),
            _task("next_step", "SUCCESS", "2024-01-01 00:00:07", "2024-01-01 00:00:07"),
        ],
    )
    problems = check(outcome, scenario)
    assert len(problems) == 4, problems
    assert problems[0].startswith("state ERROR ('boom')")


def test_check_start_error() -> None:
    scenario = load_scenario("missing_input_rejected")
    body = {"faultstring": "Invalid input [name=wf, missing=['required_name']]"}
    assert check(Outcome("ns", 400, body), scenario) == []
    assert len(check(Outcome("ns", 201, {"id": "x"}), scenario)) == 3


def test_contains_is_a_recursive_subset() -> None:
    assert contains({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 1}})
    assert not contains({"a": {"b": 1}}, {"a": {"b": 2}})
    assert not contains({"a": [1, 2]}, {"a": [1]})
