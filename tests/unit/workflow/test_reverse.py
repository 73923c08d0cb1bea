from __future__ import annotations

import pytest

from mistral import lang
from mistral.exceptions import InputError
from mistral.workflow import reverse

WF = """
version: '2.0'
wf:
  type: reverse
  tasks:
    fetch: {action: std.noop}
    parse: {action: std.noop, requires: [fetch]}
    unrelated: {action: std.noop}
    report: {action: std.noop, requires: [parse, fetch]}
"""


def test_only_what_the_target_needs_runs_dependencies_first() -> None:
    wf = lang.parse_workflows(WF).workflows[0]
    needed = reverse.needed_tasks(wf, "report")
    assert sorted(needed) == ["fetch", "parse", "report"]
    assert reverse.ready_tasks(wf, needed, set(), set()) == ["fetch"]
    assert reverse.ready_tasks(wf, needed, {"fetch"}, {"fetch"}) == ["parse"]
    assert reverse.ready_tasks(wf, needed, {"fetch", "parse"}, {"fetch", "parse"}) == ["report"]


@pytest.mark.parametrize("target", [None, "nope"])
def test_a_missing_or_unknown_target_is_an_input_error(target: str | None) -> None:
    wf = lang.parse_workflows(WF).workflows[0]
    with pytest.raises(InputError):
        reverse.needed_tasks(wf, target)


def test_dependents_are_the_needed_tasks_that_require_a_task_directly_or_not() -> None:
    wf = lang.parse_workflows(WF).workflows[0]
    needed = reverse.needed_tasks(wf, "report")
    assert reverse.dependents(wf, "fetch", needed) == {"parse", "report"}
    assert reverse.dependents(wf, "parse", needed) == {"report"}
    assert reverse.dependents(wf, "report", needed) == set()
    assert reverse.dependents(wf, "fetch", reverse.needed_tasks(wf, "parse")) == {"parse"}
