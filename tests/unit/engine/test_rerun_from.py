"""Re-running a SUCCESS task and what follows it (mistral/engine/rerun_from.py), driven on the engine:
every action sent is counted, and what the workflow ends with is checked."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.engine import task_records
from mistral.exceptions import InputError
from mistral.services import definitions
from mistral.workflow import states
from tests.unit.engine.test_controls import Harness, execution

pytestmark = pytest.mark.usefixtures("db")

WORKFLOWS = """
version: '2.0'
chain:
  output:
    last: <% $.cv %>
  tasks:
    a:
      action: std.echo output=a
      on-success: b
    b:
      action: std.echo output=b
      on-success: c
    c:
      action: std.echo output=c
      publish:
        cv: <% task().result %>
rev:
  type: reverse
  output:
    got: <% $.top %>
  tasks:
    base: {action: std.echo output=base}
    mid: {action: std.echo output=mid, requires: [base]}
    side: {action: std.echo output=side}
    top:
      action: std.echo output=top
      requires: [mid, side]
      publish:
        top: <% task().result %>
items:
  tasks:
    each:
      with-items: x in <% [1, 2] %>
      action: std.echo output=<% $.x %>
      on-success: after
    after:
      action: std.noop
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    t:
      action: std.noop
"""


@pytest.fixture
def harness(sent: list[Any]) -> Harness:
    definitions.create_workflows(WORKFLOWS)
    return Harness(sent)


def _run_to_end(harness: Harness, wf_ex_id: str, **outcomes: dict[str, Any]) -> None:
    """Answer every running action (``outcomes`` by task name; success otherwise) until none is left."""
    while pending := [r for r in harness.requests if Harness._running(r)]:
        for request in pending:
            name = db_api.get_task_execution(request.context["task_execution_id"]).name
            harness.answer(request, **outcomes.get(name, {"data": name}))


def _rows(wf_ex_id: str, name: str) -> list[Any]:
    return db_api.find_task_executions(wf_ex_id, names=[name])


def _sent_for(harness: Harness, wf_ex_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in harness.requests:
        name = db_api.get_task_execution(request.context["task_execution_id"]).name
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_a_failed_end_is_superseded_and_the_workflow_succeeds_with_the_new_results(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    _run_to_end(harness, wf_ex_id, c={"error": "c broke"})
    assert execution(wf_ex_id).state == states.ERROR
    (b,) = _rows(wf_ex_id, "b")
    harness.engine.rerun_task(b.id)
    assert execution(wf_ex_id).state == states.RUNNING
    (old_c,) = _rows(wf_ex_id, "c")
    assert task_records.runtime(old_c).superseded_by == b.id and old_c.state == states.ERROR
    _run_to_end(harness, wf_ex_id)
    ended = execution(wf_ex_id)
    assert (ended.state, ended.output) == (states.SUCCESS, {"last": "c"})
    assert _sent_for(harness, wf_ex_id) == {"a": 1, "b": 2, "c": 2}
    assert [t.state for t in _rows(wf_ex_id, "c")] == [states.ERROR, states.SUCCESS]


def test_a_reverse_workflow_reruns_what_requires_the_task(harness: Harness) -> None:
    answer = harness.engine.start_workflow("rev", params={"task_name": "top"})
    harness.engine.run_first_steps([answer["id"]])
    wf_ex_id = answer["id"]
    _run_to_end(harness, wf_ex_id)
    assert execution(wf_ex_id).state == states.SUCCESS
    (mid,) = _rows(wf_ex_id, "mid")
    harness.engine.rerun_task(mid.id)
    _run_to_end(harness, wf_ex_id, top={"data": "top again"})
    ended = execution(wf_ex_id)
    assert (ended.state, ended.output) == (states.SUCCESS, {"got": "top again"})
    assert _sent_for(harness, wf_ex_id) == {"base": 1, "side": 1, "mid": 2, "top": 2}


@pytest.mark.parametrize(("reset", "items_sent"), [(True, 4), (False, 2)])
def test_a_with_items_task_reruns_all_its_items_or_none(
    harness: Harness, reset: bool, items_sent: int
) -> None:
    wf_ex_id = harness.start("items")
    _run_to_end(harness, wf_ex_id)
    (each,) = _rows(wf_ex_id, "each")
    harness.engine.rerun_task(each.id, reset=reset)
    _run_to_end(harness, wf_ex_id)
    assert execution(wf_ex_id).state == states.SUCCESS
    assert _sent_for(harness, wf_ex_id) == {"each": items_sent, "after": 2}
    (each,) = _rows(wf_ex_id, "each")
    assert (each.state, each.result, each.reset) == (states.SUCCESS, ["each", "each"], reset)


def test_refusals_name_the_reason_and_change_nothing(harness: Harness) -> None:
    wf_ex_id = harness.start("chain")
    (a_request,) = harness.requests
    harness.answer(a_request)
    (a,) = _rows(wf_ex_id, "a")
    with pytest.raises(InputError, match=f"while its execution {wf_ex_id} is RUNNING"):
        harness.engine.rerun_task(a.id)
    assert (_rows(wf_ex_id, "a")[0].state, execution(wf_ex_id).state) == (states.SUCCESS, states.RUNNING)

    parent_id = harness.start("parent")
    child = db_api.list_sub_executions([parent_id])[0]
    harness.sent_boxes()  # NOTE: only the boxes of what follows are delivered below
    _run_to_end(harness, child.id)
    for box in harness.sent_boxes():
        if box.finished_subworkflows:
            harness.engine.on_subworkflows_finished(list(box.finished_subworkflows))
    assert execution(parent_id).state == states.SUCCESS
    (t,) = _rows(child.id, "t")
    with pytest.raises(InputError, match="re-run the parent task instead"):
        harness.engine.rerun_task(t.id)
    assert execution(parent_id).state == states.SUCCESS and execution(child.id).state == states.SUCCESS
