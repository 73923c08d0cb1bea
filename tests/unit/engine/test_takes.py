"""Taking actions: each is granted once, to the first taker, even when copies arrive in one batch."""

from __future__ import annotations

import pytest

from mistral.db import api as db_api
from mistral.engine.engine import Take, get
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")


def _running_action() -> str:
    with db_api.transaction():
        wf = rows.wf_ex(state="RUNNING")
        task = rows.task_ex(wf, "t", state="RUNNING")
        return rows.action_ex(task, state="RUNNING").id


def test_two_copies_in_one_batch_are_granted_once() -> None:
    action_id = _running_action()
    first, second = Take("exec-a", action_id, "r1"), Take("exec-b", action_id, "r2")
    assert get().take_actions([first, second]) == {first}
    assert db_api.get_action_execution(action_id).executor_host == "exec-a"


def test_an_action_taken_before_or_no_longer_running_is_refused() -> None:
    taken, finished = _running_action(), _running_action()
    assert get().take_actions([Take("exec-a", taken, "r1")])
    with db_api.transaction():
        db_api.update_action_execution(finished, {"state": "SUCCESS"})
    assert get().take_actions([Take("exec-b", taken, "r2"), Take("exec-b", finished, "r2")]) == set()
