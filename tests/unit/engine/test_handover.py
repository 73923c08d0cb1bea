"""Handing an executor its next actions in the answer to its results: taken once, handed again when lost.

Nothing leaves the process: the ``sent`` fixture records each outbox the engine would send,
and a box's ``handed`` entries are what the answer to the executor would carry.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import engine as engine_module
from mistral.engine import handover, outbox, recovery
from mistral.engine.engine import Take
from mistral.rpc.payloads import ACCEPTS_HANDED
from mistral.services import definitions

WORKFLOWS = """
version: '2.0'
chain:
  tasks:
    one:
      action: std.noop
      on-success: two
    two:
      action: std.noop
      safe-rerun: true
      on-success: three
    three:
      action: std.noop
fan:
  tasks:
    one:
      action: std.noop
      on-success: [a, b, c]
    a:
      action: std.noop
    b:
      action: std.noop
    c:
      action: std.noop
parent:
  tasks:
    one:
      action: std.noop
      on-success: call
    call:
      workflow: child
child:
  tasks:
    inner:
      action: std.noop
elsewhere:
  tasks:
    one:
      action: std.noop
      on-success: two
    two:
      action: std.noop
      target: other-host
"""


#: [action_heartbeat] max_missed_heartbeats x check_interval, the defaults
SILENCE = datetime.timedelta(seconds=15 * 20)


@pytest.fixture(autouse=True)
def _workflows(db: str, sent: list[outbox.Outbox]) -> None:
    definitions.create_workflows(WORKFLOWS)


def _start(name: str, sent: list[outbox.Outbox]) -> str:
    """Start ``name`` and take its first action for exec-a; answer that action's id."""
    engine_module.get().start_workflow(name)
    (request,) = [r for box in sent for r in box.actions]
    sent.clear()
    assert engine_module.get().take_actions([Take("exec-a", request.action_ex_id, "r1")])
    return request.action_ex_id


def _report(
    action_ex_id: str, sent: list[outbox.Outbox], executor: str = "exec-a"
) -> tuple[list[str], list[str]]:
    """exec-a's result of ``action_ex_id``, as its RPC handler applies it: (ids handed back, ids cast)."""
    result: dict[str, Any] = {
        "action_ex_id": action_ex_id,
        "data": None,
        "executor": executor,
        ACCEPTS_HANDED: True,
    }
    offer = handover.offer_of([result])
    engine_module.get().on_action_results(handover.attach(offer, [result]))
    handed = [r.action_ex_id for box in sent for o, r in box.handed if o is offer]
    cast = [r.action_ex_id for box in sent for r in box.actions]
    sent.clear()
    return handed, cast


def test_the_next_action_is_taken_for_the_executor_and_handed_in_its_answer(
    sent: list[outbox.Outbox],
) -> None:
    first = _start("chain", sent)
    (second,), cast = _report(first, sent)
    assert cast == []
    action_ex = db_api.get_action_execution(second)
    assert action_ex.executor_host == "exec-a" and action_ex.taken_at is not None
    assert engine_module.get().take_actions([Take("exec-b", second, "r2")]) == set(), "taken once"
    (third,), _ = _report(second, sent)
    assert third not in (first, second)


def test_a_result_sent_again_hands_again_what_its_executor_never_reported(sent: list[outbox.Outbox]) -> None:
    """The answer was lost (the engine died after its commit): the executor sends its results again."""
    first = _start("chain", sent)
    (second,), _ = _report(first, sent)
    assert _report(first, sent) == ([second], [])
    db_api.touch_action_heartbeats([second], "exec-a")  # the executor got it after all
    assert _report(first, sent) == ([], [])


def test_an_action_handed_again_is_not_judged_silent_for_its_first_take(
    sent: list[outbox.Outbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer was lost and the executor's call timed out after about a silence period: handed
    again, the action is the executor's from then on, not sent to another one by recovery as well."""
    monkeypatch.setattr(recovery, "_engine_started_at", None)
    first = _start("chain", sent)
    (second,), _ = _report(first, sent)
    long_ago = utcnow() - SILENCE - datetime.timedelta(seconds=1)
    db_api.update_action_execution(second, {"taken_at": long_ago, "last_heartbeat": long_ago})
    assert _report(first, sent) == ([second], [])
    recovery.handle_silent_actions()
    assert [r.action_ex_id for box in sent for r in box.actions] == [], "handed and sent again: run twice"
    assert db_api.get_action_execution(second).executor_host == "exec-a"


def test_an_action_recovery_sent_again_is_not_handed_again(
    sent: list[outbox.Outbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recovery judged it silent first: the result sent again hands nothing (it runs once, elsewhere)."""
    monkeypatch.setattr(recovery, "_engine_started_at", None)
    first = _start("chain", sent)
    (second,), _ = _report(first, sent)
    long_ago = utcnow() - SILENCE - datetime.timedelta(seconds=1)
    db_api.update_action_execution(second, {"taken_at": long_ago, "last_heartbeat": long_ago})
    recovery.handle_silent_actions()
    assert [r.action_ex_id for box in sent for r in box.actions] == [second]
    sent.clear()
    assert _report(first, sent) == ([], [])


def test_a_result_sent_again_by_another_executor_hands_nothing(sent: list[outbox.Outbox]) -> None:
    first = _start("chain", sent)
    _report(first, sent)
    assert _report(first, sent, executor="exec-b") == ([], [])


def test_a_fan_out_hands_one_action_per_result_and_sends_the_others(sent: list[outbox.Outbox]) -> None:
    first = _start("fan", sent)
    handed, cast = _report(first, sent)
    assert len(handed) == 1 and len(cast) == 2
    assert all(db_api.get_action_execution(i).taken_at is None for i in cast)


def test_an_action_for_another_target_is_sent_as_before(sent: list[outbox.Outbox]) -> None:
    first = _start("elsewhere", sent)
    handed, (cast,) = _report(first, sent)
    assert handed == [] and db_api.get_action_execution(cast).taken_at is None


def test_an_action_of_another_workflow_execution_is_not_handed(sent: list[outbox.Outbox]) -> None:
    """A sub-workflow's action: a result sent again looks for what it handed in its own execution only."""
    first = _start("parent", sent)
    handed, _ = _report(first, sent)
    assert handed == []


def test_a_handed_action_is_never_sent_again_by_recovery(sent: list[outbox.Outbox]) -> None:
    first = _start("chain", sent)
    (second,), _ = _report(first, sent)
    recovery.resend_untaken_actions(sent_before=utcnow() + datetime.timedelta(days=1))
    assert [r.action_ex_id for box in sent for r in box.actions] == []


def test_results_without_the_executors_consent_hand_nothing(sent: list[outbox.Outbox]) -> None:
    """An executor of the previous release drops whatever the answer carries."""
    first = _start("chain", sent)
    assert handover.offer_of([{"action_ex_id": first, "data": None, "executor": "exec-a"}]) is None
