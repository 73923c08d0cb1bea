"""The named queries of every engine hop (built once, reused), run on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.db import session as session_module
from mistral.db.session import transaction

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime.datetime(2030, 1, 2, 3, 4, 5)


def _execution(wf_ex_id: str) -> None:
    db_api.create_workflow_execution({"id": wf_ex_id, "workflow_name": "wf", "state": "RUNNING", "spec": {}})


def _task(task_id: str, wf_ex_id: str) -> None:
    with transaction():
        db_api.create_task_execution(
            {"id": task_id, "name": task_id, "workflow_execution_id": wf_ex_id, "state": "RUNNING"}
        )


def _actions(task_id: str, *ids: str, state: str = "RUNNING") -> None:
    rows = [{"id": i, "name": "std.echo", "task_execution_id": task_id, "state": state} for i in ids]
    db_api.insert_action_executions(rows)


@pytest.fixture
def hop(db: str) -> None:
    """Two executions; task t1 with actions a1 and a2, task t2 with a3, and a finished a4."""
    _execution("wf-b")
    _execution("wf-a")
    _task("t1", "wf-a")
    _task("t2", "wf-b")
    _actions("t1", "a1", "a2")
    _actions("t2", "a3")
    _actions("t2", "a4", state="SUCCESS")


@pytest.mark.usefixtures("hop")
def test_a_take_marks_running_untaken_actions_once_and_answers_them() -> None:
    with transaction():
        assert sorted(db_api.take_action_executions(["a1", "a3", "a4", "nope"], "ex-1", NOW)) == ["a1", "a3"]
    with transaction():
        assert db_api.take_action_executions(["a1", "a2"], "ex-2", NOW) == ["a2"]
    with transaction(read_only=True):
        taken = {a.id: a for a in db_api.find_action_executions_by_ids(["a1", "a2", "a3", "a4"])}
        assert (taken["a1"].executor_host, taken["a1"].taken_at, taken["a1"].last_heartbeat) == (
            "ex-1",
            NOW,
            NOW,
        )
        assert taken["a1"].updated_at is not None
        assert taken["a2"].executor_host == "ex-2"
        assert taken["a4"].taken_at is None


@pytest.mark.usefixtures("hop")
def test_actions_come_with_their_tasks_as_they_are_now() -> None:
    with transaction() as session:
        stale = db_api.find_task_executions_by_ids(["t1"])[0]
        # NOTE: another engine's change, made behind this session's back (as after waiting for a lock)
        session.connection().execute(
            sa.update(models.TaskExecution.__table__)
            .where(models.TaskExecution.id == "t1")
            .values(state="ERROR")
        )
        pairs = db_api.find_actions_with_tasks(["a1", "a2", "a3"])
        assert sorted((a.id, t.id) for a, t in pairs) == [("a1", "t1"), ("a2", "t1"), ("a3", "t2")]
        assert stale.state == "ERROR"  # the same object, read again
        assert {id(t) for a, t in pairs if t.id == "t1"} == {id(stale)}


@pytest.mark.usefixtures("hop")
def test_actions_to_apply_are_rows_as_they_are_now_and_take_their_results() -> None:
    with transaction() as session:
        session.connection().execute(
            sa.update(models.ActionExecution.__table__)
            .where(models.ActionExecution.id == "a1")
            .values(executor_host="ex-1", runtime_context={"index": 3})
        )
        a1, a2 = sorted(db_api.find_actions_to_apply(["a1", "a2", "nope"]))
        assert (a1.id, a1.state, a1.runtime_context, a1.task_execution_id, a1.executor_host) == (
            "a1",
            "RUNNING",
            {"index": 3},
            "t1",
            "ex-1",
        )
        db_api.write_action_results(
            [(a1, {"state": "SUCCESS", "output": {"result": 7}, "result_applied": True})]
        )
    with transaction(read_only=True):
        stored = {a.id: a for a in db_api.find_action_executions_by_ids(["a1", "a2"])}
        assert (stored["a1"].state, stored["a1"].output, stored["a1"].executor_host) == (
            "SUCCESS",
            {"result": 7},
            "ex-1",  # kept: the outcome did not name an executor
        )
        assert stored["a2"].state == "RUNNING"


@pytest.mark.usefixtures("hop")
def test_actions_read_with_their_tasks_leave_their_input_unread_until_asked(
    statements: Callable[[], list[str]],
) -> None:
    with transaction():
        sent = statements()
        pairs = db_api.find_actions_with_tasks(["a1"])
        assert len(sent) == 1 and "input" not in pairs[0][0].__dict__
        assert pairs[0][0].input is None and len(sent) == 2  # read when asked for


@pytest.mark.usefixtures("hop")
def test_executions_are_locked_in_id_order() -> None:
    with transaction():
        assert [e.id for e in db_api.lock_workflow_executions(["wf-b", "wf-a"])] == ["wf-a", "wf-b"]
        assert db_api.lock_workflow_executions([]) == []


@pytest.mark.usefixtures("hop")
def test_action_results_are_written_at_once_and_later_changes_still_flush() -> None:
    with transaction():
        a1, a2 = sorted(db_api.find_action_executions_by_ids(["a1", "a2"]), key=lambda a: a.id)
        db_api.write_action_results(
            [
                (a1, {"state": "SUCCESS", "output": {"result": 7}, "result_applied": True}),
                (
                    a2,
                    {"state": "ERROR", "output": {"result": "x"}, "result_applied": True, "state_info": "x"},
                ),
            ]
        )
        assert (a1.state, a1.output, a1.result_applied) == ("SUCCESS", {"result": 7}, True)
        a1.output = {}  # keep-result: false, after publish has seen the result
    with transaction(read_only=True):
        stored = {a.id: a for a in db_api.find_action_executions_by_ids(["a1", "a2"])}
        a1 = stored["a1"]
        assert (a1.state, a1.output, a1.result_applied, a1.executor_host) == ("SUCCESS", {}, True, None)
        a2 = stored["a2"]
        assert (a2.state, a2.output, a2.state_info) == ("ERROR", {"result": "x"}, "x")
        assert stored["a1"].updated_at is not None


@pytest.mark.usefixtures("hop")
def test_a_hop_locks_its_workflows_and_reads_their_rows_as_they_are_now() -> None:
    with context.using(context.current().with_(is_internal=True)), transaction() as session:
        stale = db_api.find_task_executions_by_ids(["t1"])[0]
        session.connection().execute(
            sa.update(models.TaskExecution.__table__)
            .where(models.TaskExecution.id == "t1")
            .values(state="ERROR")
        )
        found = db_api.lock_workflows_reading_actions(["wf-a", "wf-b"], ["a3", "a1"])
        assert [(a.id, t.id, w.id) for a, t, w in found] == [("a1", "t1", "wf-a"), ("a3", "t2", "wf-b")]
        assert stale.state == "ERROR"  # read again, as it is now
        # NOTE: two actions of one workflow would decode its row twice: the caller locks, then reads
        assert db_api.lock_workflows_reading_actions(["wf-a"], ["a1", "a2"]) is None
        ((action_ex, task_ex, wf_ex),) = db_api.lock_workflows_reading_actions(["wf-b"], ["a3"])
        assert (action_ex.id, task_ex.id, wf_ex.id) == ("a3", "t2", "wf-b")


ON_POSTGRES = pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _raw_connection(postgres_url: str) -> Any:
    url = sa.engine.make_url(postgres_url).set(drivername="postgresql")
    return psycopg2.connect(url.render_as_string(hide_password=False))


@ON_POSTGRES
@pytest.mark.usefixtures("hop")
def test_on_postgres_rows_changed_while_the_lock_is_awaited_are_read_as_changed(postgres_url: str) -> None:
    """The read travels with the lock, yet starts only once the lock is granted."""
    other = _raw_connection(postgres_url)
    with other.cursor() as cur:
        cur.execute("SELECT id FROM workflow_executions_v2 WHERE id = 'wf-a' FOR UPDATE")
        cur.execute("UPDATE task_executions_v2 SET state = 'ERROR' WHERE id = 't1'")
    committer = threading.Timer(0.5, other.commit)
    committer.start()
    try:
        started = time.monotonic()
        with context.using(context.current().with_(is_internal=True)), transaction():
            ((action_ex, task_ex, wf_ex),) = db_api.lock_workflows_reading_actions(["wf-a"], ["a1"])
            waited = time.monotonic() - started
            assert (action_ex.id, task_ex.id, wf_ex.id, task_ex.state) == ("a1", "t1", "wf-a", "ERROR")
        assert waited >= 0.4
    finally:
        committer.join()
        other.close()


@ON_POSTGRES
@pytest.mark.usefixtures("hop")
def test_on_postgres_the_lock_and_the_read_are_one_message(pg_messages: list[str]) -> None:
    sent = pg_messages
    with context.using(context.current().with_(is_internal=True)), transaction():
        assert len(db_api.lock_workflows_reading_actions(["wf-a", "wf-b"], ["a1", "a3"])) == 2
    first = [part.strip() for part in sent[0].split(";")]
    assert [part.split()[0] for part in first] == ["BEGIN", "SELECT", "SELECT"]
    assert first[1].endswith("ORDER BY workflow_executions_v2.id FOR UPDATE")
    assert "JOIN task_executions_v2" in first[2] and "FOR UPDATE" not in first[2]


@pytest.mark.usefixtures("hop")
def test_one_statement_is_for_the_engine_only() -> None:
    with transaction():
        assert db_api.lock_workflows_reading_actions(["wf-a"], ["a1"]) is None


@pytest.fixture
def statements() -> Iterator[Callable[[], list[str]]]:
    """``statements()``: the statements sent from then on (a list that fills as they run)."""
    listeners = []

    def start() -> list[str]:
        sent: list[str] = []
        listeners.append(lambda *args: sent.append(args[2].split()[0]))
        sa.event.listen(session_module.get_engine(), "before_cursor_execute", listeners[-1])
        return sent

    yield start
    for listener in listeners:
        sa.event.remove(session_module.get_engine(), "before_cursor_execute", listener)


def test_a_new_task_is_inserted_at_once_and_is_not_read_again(statements: Callable[[], list[str]]) -> None:
    _execution("wf-a")
    sent = statements()
    with transaction():
        task_ex = db_api.insert_task_execution(
            {"id": "t9", "name": "t9", "workflow_execution_id": "wf-a", "state": "RUNNING", "spec": {"a": 1}}
        )
        assert sent == ["INSERT"]
        values = task_ex.to_dict() | {"spec": task_ex.spec}
        assert sent == ["INSERT"]  # every column was set, the deferred spec too: none is read back
        assert (values["processed"], values["type"], values["spec"], values["result"]) == (
            False,
            "ACTION",
            {"a": 1},
            None,
        )
        task_ex.state = "SUCCESS"
    with transaction(read_only=True):
        stored = db_api.get_task_execution("t9")
        assert (stored.state, stored.name, stored.project_id, stored.spec) == (
            "SUCCESS",
            "t9",
            task_ex.project_id,
            {"a": 1},
        )
        assert stored.updated_at is not None


@pytest.mark.usefixtures("hop")
def test_a_changed_task_writes_only_its_changed_columns_once(statements: Callable[[], list[str]]) -> None:
    with transaction() as session:
        (task_ex,) = db_api.find_task_executions_by_ids(["t1"])
        # NOTE: changed behind this session's back, it must stay: only the changed columns are written
        session.connection().execute(
            sa.update(models.TaskExecution.__table__)
            .where(models.TaskExecution.id == "t1")
            .values(state_info="kept")
        )
        task_ex.state, task_ex.published = "SUCCESS", {"v": 1}
        sent = statements()
        session.flush()
        session.flush()
        assert sent == ["UPDATE"]
        assert not session.dirty
        task_ex.processed = True
    with transaction(read_only=True):
        stored = db_api.get_task_execution("t1")
        assert (stored.state, stored.published, stored.state_info, stored.processed) == (
            "SUCCESS",
            {"v": 1},
            "kept",
            True,
        )
        assert stored.updated_at is not None


@pytest.mark.usefixtures("hop")
def test_a_task_changed_in_a_savepoint_that_rolls_back_is_not_written() -> None:
    with transaction() as session:
        (task_ex,) = db_api.find_task_executions_by_ids(["t1"])
        nested = session.begin_nested()
        task_ex.state = "ERROR"
        session.flush()
        nested.rollback()
    with transaction(read_only=True):
        assert db_api.get_task_execution("t1").state == "RUNNING"


@pytest.mark.usefixtures("hop")
def test_tasks_changed_alike_are_written_in_one_statement(statements: Callable[[], list[str]]) -> None:
    with transaction() as session:
        tasks = db_api.find_task_executions_by_ids(["t1", "t2"])
        for task_ex in tasks:
            task_ex.state = "SUCCESS"  # NOTE: a join's inbound tasks, finished by one batch of results
        sent = statements()
        session.flush()
        assert sent == ["UPDATE"]
    with transaction(read_only=True):
        assert {t.state for t in db_api.find_task_executions_by_ids(["t1", "t2"])} == {"SUCCESS"}


def test_tasks_are_found_by_whether_they_led_on() -> None:
    # NOTE: a workflow's last step reads only its end tasks.
    _execution("wf-a")
    with transaction():
        for task_id, led_on in (("t1", True), ("t2", False), ("t3", False), ("t4", True)):
            db_api.create_task_execution(
                {"id": task_id, "name": task_id, "workflow_execution_id": "wf-a", "state": "SUCCESS"}
            )
            db_api.update_task_execution(task_id, {"has_next_tasks": led_on})
    with transaction(read_only=True):
        ends = db_api.find_task_executions("wf-a", states=["SUCCESS"], has_next_tasks=False)
        led_on = db_api.find_task_executions("wf-a", has_next_tasks=True)
        every = db_api.find_task_executions("wf-a")
    assert sorted(t.id for t in ends) == ["t2", "t3"]
    assert sorted(t.id for t in led_on) == ["t1", "t4"]
    assert len(every) == 4


def test_task_states_are_counted_per_state_for_one_execution_as_this_transaction_sees_them() -> None:
    _execution("wf-a")
    _execution("wf-b")
    for task_id, wf_ex_id in (("t1", "wf-a"), ("t2", "wf-a"), ("t3", "wf-a"), ("t4", "wf-b")):
        _task(task_id, wf_ex_id)
    asked = ("RUNNING", "WAITING", "ERROR")
    with transaction():
        t1, t2, t3 = sorted(db_api.find_task_executions_by_ids(["t1", "t2", "t3"]), key=lambda t: t.id)
        t1.state, t2.state, t3.state = "ERROR", "SUCCESS", "WAITING"  # not flushed yet
        assert db_api.count_task_executions_by_state("wf-a", asked) == {"ERROR": 1, "WAITING": 1}
    with transaction(read_only=True):
        assert db_api.count_task_executions_by_state("wf-b", asked) == {"RUNNING": 1}
        assert db_api.count_task_executions_by_state("wf-b", ("SUCCESS",)) == {}


def test_tasks_of_an_execution_are_found_by_name_state_and_whether_they_led_on_in_creation_order() -> None:
    _execution("wf-a")
    _execution("wf-b")
    for task_id, wf_ex_id in (("t1", "wf-a"), ("t2", "wf-a"), ("t3", "wf-a"), ("t4", "wf-b")):
        _task(task_id, wf_ex_id)
    with transaction():
        # NOTE: a lookup by ids answers in no particular order.
        t1, t2 = sorted(db_api.find_task_executions_by_ids(["t1", "t2"]), key=lambda t: t.id)
        t1.state, t1.has_next_tasks = "SUCCESS", True
        t2.state, t2.has_next_tasks = "SUCCESS", False

    def found(**by: object) -> list[str]:
        with transaction(read_only=True):
            return [t.id for t in db_api.find_task_executions("wf-a", **by)]

    assert found() == ["t1", "t2", "t3"]
    assert (found(names=["t3", "t1", "t4"]), found(names=[])) == (["t1", "t3"], [])
    assert (found(states={"SUCCESS", "ERROR"}), found(states=["RUNNING"])) == (["t1", "t2"], ["t3"])
    assert found(names=["t2", "t3"], states=["SUCCESS"], has_next_tasks=False) == ["t2"]
    assert found(states=["SUCCESS"], has_next_tasks=True) == ["t1"]
