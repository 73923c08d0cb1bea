"""Direct workflow decisions: pure functions of the spec, the finished task and its conditions."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from typing import Any

import pytest

from mistral import lang
from mistral.workflow import commands, direct, states

WF = """
version: '2.0'
wf:
  task-defaults:
    on-error: [cleanup]
  tasks:
    a:
      action: std.noop
      on-success:
        - b: <% $.go %>
        - c
        - fail: <% not $.go %>
      on-complete: [d]
    b:
      action: std.noop
      on-success: [j]
    c:
      action: std.noop
      on-success: [j]
    d:
      action: std.noop
    j:
      join: all
      action: std.noop
    cleanup:
      action: std.noop
      on-error: [noop]
"""


@pytest.fixture(scope="module")
def wf() -> Any:
    return lang.parse_workflows(WF).workflows[0]


def _names(decision: commands.Decision) -> list[str]:
    return [c.name for c in decision.commands]


def test_start_tasks_are_those_nothing_leads_to(wf: Any) -> None:
    assert direct.start_tasks(wf) == ["a"]


def test_success_fires_true_conditions_then_on_complete(wf: Any) -> None:
    decision = direct.decide(wf, "a", states.SUCCESS, "id-a", lambda expr: True)
    assert _names(decision) == ["b", "c", "fail", "d"]
    assert isinstance(decision.commands[2], commands.EngineCommand)


def test_false_condition_skips_the_transition(wf: Any) -> None:
    decision = direct.decide(wf, "a", states.SUCCESS, "id-a", lambda expr: False)
    assert _names(decision) == ["c", "d"]


def test_task_defaults_handle_errors_but_not_for_the_handler_itself(wf: Any) -> None:
    decision = direct.decide(wf, "b", states.ERROR, "id-b", lambda expr: True)
    assert _names(decision) == ["cleanup"] and decision.error_handled
    own = direct.decide(wf, "cleanup", states.ERROR, "id-x", lambda expr: True)
    assert _names(own) == ["noop"] and own.error_handled


def test_a_branch_that_does_not_lead_to_a_join_is_reported_missed(wf: Any) -> None:
    decision = direct.decide(wf, "b", states.ERROR, "id-b", lambda expr: True)
    assert [m.name for m in decision.missed_joins] == ["j"]
    assert not direct.decide(wf, "b", states.SUCCESS, "id-b", lambda e: True).missed_joins


def test_a_branch_that_misses_several_joins_reports_each_in_inbound_order() -> None:
    wf = lang.parse_workflows(MANY_JOINS).workflows[0]
    assert direct.joins_fed_by(wf) == {"a": ["j1", "j2"], "b": ["j2"], "c": ["j1"]}
    assert direct.joins_fed_by(wf) is direct.joins_fed_by(wf), "computed once per spec"
    missed = direct.decide(wf, "a", states.ERROR, "id-a", lambda expr: True).missed_joins
    assert [(m.name, m.from_task) for m in missed] == [("j1", "a"), ("j2", "a")]
    assert not direct.decide(wf, "a", states.SUCCESS, "id-a", lambda expr: True).missed_joins
    assert not direct.decide(wf, "d", states.ERROR, "id-d", lambda expr: True).missed_joins


MANY_JOINS = """
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [j1, j2, c]
    b:
      action: std.noop
      on-success: [j2]
    c:
      action: std.noop
      on-success: [j1]
    d:
      action: std.noop
    j1:
      join: one
      action: std.noop
    j2:
      join: all
      action: std.noop
"""


def test_join_requirement(wf: Any) -> None:
    assert direct.join_requirement(wf, wf.tasks["j"]) == 2
    assert direct.join_requirement(wf, wf.tasks["b"]) == 0


def test_inbound_tasks_are_kept_with_their_spec_and_go_with_it() -> None:
    wf = lang.parse_workflows(WF).workflows[0]
    inbound = direct.inbound_tasks(wf)
    assert inbound["j"] == ["b", "c"]
    assert direct.inbound_tasks(wf) is inbound, "computed once per spec"
    copy = dataclasses.replace(wf, tasks={"x": wf.tasks["a"]})
    assert direct.inbound_tasks(copy) is not inbound, "a copy starts without the original's"
    gone = weakref.ref(wf)
    del wf, copy
    gc.collect()
    assert gone() is None, "no process-wide cache keeps a spec alive"


def test_downstream_is_every_task_reachable_by_any_transition(wf: Any) -> None:
    # task-defaults' on-error leads every task (but cleanup itself) to cleanup
    assert direct.downstream(wf, "a") == {"b", "c", "d", "j", "cleanup"}
    assert direct.downstream(wf, "b") == {"j", "cleanup"}
    assert direct.downstream(wf, "cleanup") == set()
    looping = lang.parse_workflows(
        "version: '2.0'\nloop:\n  tasks:\n    s:\n      action: std.noop\n      on-success: [x]\n"
        "    x:\n      action: std.noop\n      on-success: [y]\n    y:\n      action: std.noop\n"
        "      on-success: [x]\n"
    ).workflows[0]
    assert direct.downstream(looping, "x") == {"x", "y"}
