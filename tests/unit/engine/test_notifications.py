"""The engine writes an execution's events in the transactions of its state changes, in order."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import models, session
from mistral.engine import engine, tasks
from mistral.services import definitions
from mistral.workflow import states
from tests.conftest import Override

pytestmark = pytest.mark.usefixtures("db")

WORKFLOWS = """
version: '2.0'
pair:
  tasks:
    first:
      action: std.noop
      on-success: second
    second:
      action: std.noop
parent:
  tasks:
    child:
      workflow: pair
"""

NOOP = [{"type": "noop"}]


def _events() -> list[tuple[str, str, str, str | None]]:
    """(stream, event, payload id, payload name) of every stored event, in ``seq`` order."""
    with session.transaction() as s:
        rows = s.scalars(sa.select(models.NotificationEvent).order_by(models.NotificationEvent.seq))
        return [(r.stream, r.event, r.payload["id"], r.payload["name"]) for r in rows]


def _finish_running_actions(eng: engine.Engine, wf_ex_id: str) -> None:
    with context.using(context.Context(is_internal=True)):
        ids = [
            a.id
            for t in db_api.find_task_executions(wf_ex_id, states=[states.RUNNING])
            for a in db_api.find_action_executions(t.id, states=[states.RUNNING])
        ]
    eng.on_action_results([{"action_ex_id": i, "data": None} for i in ids])


def _start(eng: engine.Engine, name: str, **kwargs: Any) -> str:
    """Start as the engine does: the execution, then (after the answer) its first step."""
    wf_ex_id = eng.start_workflow(name, **kwargs)["id"]
    eng.run_first_steps([wf_ex_id])
    return wf_ex_id


def _task_ids(wf_ex_id: str) -> dict[str, str]:
    with context.using(context.Context(is_internal=True)):
        return {t.name: t.id for t in db_api.find_task_executions(wf_ex_id)}


def test_a_run_writes_its_events_in_order_and_wakes_the_notifier(sent: list[Any]) -> None:
    definitions.create_workflows(WORKFLOWS)
    eng = engine.Engine()
    wf_ex_id = _start(eng, "pair", params={"notify": NOOP})
    assert sent[0].events == 2  # the start and its first step, one transaction
    _finish_running_actions(eng, wf_ex_id)
    _finish_running_actions(eng, wf_ex_id)
    ids = _task_ids(wf_ex_id)
    stream = f"{wf_ex_id}/0"
    assert _events() == [
        (stream, "WORKFLOW_LAUNCHED", wf_ex_id, "pair"),
        (stream, "TASK_LAUNCHED", ids["first"], "first"),
        (stream, "TASK_SUCCEEDED", ids["first"], "first"),
        (stream, "TASK_LAUNCHED", ids["second"], "second"),
        (stream, "TASK_SUCCEEDED", ids["second"], "second"),
        (stream, "WORKFLOW_SUCCEEDED", wf_ex_id, "pair"),
    ]


def test_without_publishers_nothing_is_written(sent: list[Any]) -> None:
    definitions.create_workflows(WORKFLOWS)
    eng = engine.Engine()
    wf_ex_id = _start(eng, "pair")
    _finish_running_actions(eng, wf_ex_id)
    _finish_running_actions(eng, wf_ex_id)
    assert _events() == []
    assert all(box.events == 0 for box in sent)


def test_event_types_choose_the_events_and_each_publisher_has_its_stream(
    sent: list[Any], override_conf: Override
) -> None:
    override_conf("notifier", "notify", '[{"type": "noop", "event_types": ["WORKFLOW_SUCCEEDED"]}]')
    definitions.create_workflows(WORKFLOWS)
    eng = engine.Engine()
    own = [{"type": "noop", "event_types": ["TASK_SUCCEEDED"]}]
    wf_ex_id = _start(eng, "pair", params={"notify": own})
    _finish_running_actions(eng, wf_ex_id)
    _finish_running_actions(eng, wf_ex_id)
    assert [(s, e) for s, e, _, _ in _events()] == [
        (f"{wf_ex_id}/0", "TASK_SUCCEEDED"),
        (f"{wf_ex_id}/0", "TASK_SUCCEEDED"),
        (f"{wf_ex_id}/conf0", "WORKFLOW_SUCCEEDED"),
    ]


def test_configured_publishers_notify_every_execution(sent: list[Any], override_conf: Override) -> None:
    override_conf("notifier", "notify", '{"type": "noop", "event_types": ["WORKFLOW_LAUNCHED"]}')
    definitions.create_workflows(WORKFLOWS)
    wf_ex_id = _start(engine.Engine(), "pair")
    assert _events() == [(f"{wf_ex_id}/conf0", "WORKFLOW_LAUNCHED", wf_ex_id, "pair")]


def test_a_bad_publisher_that_got_past_the_api_is_skipped(sent: list[Any]) -> None:
    definitions.create_workflows(WORKFLOWS)
    notify = [{"type": "carrier-pigeon"}, "junk", {"type": "noop", "event_types": ["WORKFLOW_LAUNCHED"]}]
    wf_ex_id = _start(engine.Engine(), "pair", params={"notify": notify})
    assert _events() == [(f"{wf_ex_id}/0", "WORKFLOW_LAUNCHED", wf_ex_id, "pair")]


def test_events_roll_back_with_their_state_change(sent: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    definitions.create_workflows(WORKFLOWS)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the engine died half way")

    monkeypatch.setattr(tasks, "begin", broken)
    with pytest.raises(RuntimeError):
        engine.Engine().start_workflow("pair", params={"notify": NOOP})
    assert _events() == []
    with context.using(context.Context(is_internal=True)):
        assert db_api.list_workflow_executions() == []


def test_a_sub_workflow_notifies_its_parents_publishers(sent: list[Any]) -> None:
    definitions.create_workflows(WORKFLOWS)
    eng = engine.Engine()
    wf_ex_id = _start(eng, "parent", params={"notify": NOOP})
    with context.using(context.Context(is_internal=True)):
        (child,) = db_api.list_sub_executions([wf_ex_id])
    assert child.params["notify"] == NOOP
    for _ in range(2):
        _finish_running_actions(eng, child.id)
    got = [(s.split("/")[0], e, name) for s, e, _, name in _events()]
    assert got == [
        (wf_ex_id, "WORKFLOW_LAUNCHED", "parent"),
        (wf_ex_id, "TASK_LAUNCHED", "child"),
        (child.id, "WORKFLOW_LAUNCHED", "pair"),
        (child.id, "TASK_LAUNCHED", "first"),
        (child.id, "TASK_SUCCEEDED", "first"),
        (child.id, "TASK_LAUNCHED", "second"),
        (child.id, "TASK_SUCCEEDED", "second"),
        (child.id, "WORKFLOW_SUCCEEDED", "pair"),
    ]
