"""Taking actions: each is granted once, to the first taker, even when copies arrive in one batch."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from mistral.db import api as db_api
from mistral.db import session
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


def _autocommit_of_statements(run) -> list[bool]:
    """Whether each statement ``run()`` sends runs in autocommit (its own transaction)."""
    seen: list[bool] = []

    def note(conn, _cursor, _statement, _params, _context, _many) -> None:
        seen.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    engine = session.get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_one_executors_take_is_one_statement_of_its_own_on_a_server_database(db: str) -> None:
    """BEGIN and COMMIT are round trips of their own: one UPDATE ... RETURNING needs neither."""
    action_id = _running_action()
    take = Take("exec-a", action_id, "r1")
    seen = _autocommit_of_statements(lambda: get().take_actions([take]))
    if db == "postgres":
        assert seen == [True]
    else:
        assert seen and not any(seen)  # SQLite's writer slot is a transaction (BEGIN IMMEDIATE)
    assert db_api.get_action_execution(action_id).taken_at is not None  # and it stayed taken


def test_takes_of_several_executors_share_one_transaction(db: str) -> None:
    one, two = _running_action(), _running_action()
    takes = [Take("exec-a", one, "r1"), Take("exec-b", two, "r2")]
    seen = _autocommit_of_statements(lambda: get().take_actions(takes))
    assert get().take_actions([Take("exec-c", one, "r3")]) == set()
    assert seen and not any(seen)


def test_a_take_asked_again_is_granted_to_its_executor_until_it_reports(db: str) -> None:
    """A take whose answer was lost may have been recorded: asked again, it is granted to the same
    executor, but only as long as that executor never reported on the action (no heartbeat)."""
    action_id = _running_action()
    assert get().take_actions([Take("exec-a", action_id, "r1")])  # recorded; its answer was lost
    assert get().take_actions([Take("exec-a", action_id, "r2")]) == set()  # a plain take: refused
    assert get().take_actions([Take("exec-b", action_id, "r3", again=True)]) == set()
    again, other = Take("exec-a", action_id, "r4", again=True), Take("exec-b", _running_action(), "r5")
    assert get().take_actions([again, other]) == {again, other}  # two executors: one transaction
    assert get().take_actions([Take("exec-a", action_id, "r6", again=True)]) == {
        Take("exec-a", action_id, "r6", again=True)
    }
    get().on_heartbeats([("exec-a", action_id)])  # it runs there now
    assert get().take_actions([Take("exec-a", action_id, "r7", again=True)]) == set()
    assert db_api.get_action_execution(action_id).executor_host == "exec-a"


def test_a_take_asked_again_of_an_untaken_action_is_a_plain_take(db: str) -> None:
    action_id = _running_action()
    again = Take("exec-a", action_id, "r1", again=True)
    assert get().take_actions([again]) == {again}
    assert get().take_actions([Take("exec-b", action_id, "r2", again=True)]) == set()


def test_a_heartbeat_leaves_no_list_of_ids_in_the_statement_kept_for_the_next(db: str) -> None:
    """A cached statement keeps what was bound into it when first compiled: thousands of ids, for good."""
    ids = [_running_action() for _ in range(3)]
    for action_id in ids:
        assert get().take_actions([Take("exec-a", action_id, "r")])
    assert db_api.touch_action_heartbeats(ids, "exec-a") == 3
    cache = session.get_engine()._compiled_cache
    kept = [b.value for c in cache.values() for b in c.binds.values() if isinstance(b.value, list | tuple)]
    assert not [value for value in kept if set(ids) & set(value)]
