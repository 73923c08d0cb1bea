"""The named queries' contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.api import Filter, ListQuery
from mistral.exceptions import DuplicateError, NotAllowedError, NotFoundError
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")


def _wf(name: str, **extra: object) -> dict:
    values = {"name": name, "definition": f"{name}: {{}}", "spec": {}, "tags": [], "scope": "private"}
    values.update(extra)
    return values


def test_create_then_get_by_name_and_by_id() -> None:
    created = db_api.create_workflow_definition(_wf("wf1", tags=["a"]))
    assert db_api.get_workflow_definition("wf1").id == created.id
    assert db_api.get_workflow_definition(created.id, None).name == "wf1"
    assert created.project_id == context.DEFAULT_PROJECT_ID


def test_get_unknown_raises_not_found_and_load_returns_none() -> None:
    with pytest.raises(NotFoundError, match=r"Workflow not found \[nope\]"):
        db_api.get_workflow_definition("nope")
    assert db_api.load_workflow_definition("nope") is None


def test_duplicate_name_in_same_namespace_is_refused_and_nothing_changes() -> None:
    db_api.create_workflow_definition(_wf("wf1"))
    with pytest.raises(DuplicateError, match="wf1"):
        db_api.create_workflow_definition(_wf("wf1", definition="other"))
    assert db_api.get_workflow_definition("wf1").definition == "wf1: {}"
    db_api.create_workflow_definition(_wf("wf1", namespace="ns"))
    assert db_api.get_workflow_definition("wf1", "ns").namespace == "ns"


def test_failed_transaction_stores_nothing() -> None:
    with pytest.raises(DuplicateError), db_api.transaction():
        db_api.create_workflow_definition(_wf("a"))
        db_api.create_workflow_definition(_wf("a"))
    assert db_api.list_workflow_definitions() == []


def test_an_execution_id_in_use_is_refused_and_the_first_execution_stays() -> None:
    wf_def = db_api.create_workflow_definition(_wf("wf1"))
    values = {"id": "ex-1", "workflow_name": "wf1", "workflow_id": wf_def.id, "spec": {}, "state": "RUNNING"}
    with db_api.transaction():
        created = db_api.create_workflow_execution({**values, "description": "first"})
        assert created.id == "ex-1" and created.description == "first"
    with pytest.raises(DuplicateError, match="ex-1"), db_api.transaction():
        db_api.create_workflow_execution({**values, "description": "second"})
    with db_api.transaction(read_only=True):
        assert db_api.get_workflow_execution("ex-1").description == "first"
    assert [ex.id for ex in db_api.list_workflow_executions()] == ["ex-1"]


def test_a_column_given_encoded_is_stored_as_that_text_and_the_object_holds_the_value() -> None:
    wf_def = db_api.create_workflow_definition(_wf("wf1"))
    values = {"id": "ex-1", "workflow_name": "wf1", "workflow_id": wf_def.id, "spec": {}, "state": "RUNNING"}
    text = db_api.StoredJson('{"b": [1, 2.5], "a": "\\u00e9"}')
    with db_api.transaction():
        created = db_api.create_workflow_execution(
            {**values, "input": {"b": [1, 2.5], "a": "é"}}, {"input": text}
        )
        assert created.input == {"b": [1, 2.5], "a": "é"}
    assert db_api.load_workflow_execution_shown("ex-1").input == text
    assert db_api.get_workflow_execution("ex-1").input == {"b": [1, 2.5], "a": "é"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name": Filter("eq", "b")}, ["b"]),
        ({"name": Filter("neq", "b")}, ["a", "c"]),
        ({"name": Filter("in", ["a", "c"])}, ["a", "c"]),
        ({"name": Filter("nin", ["a", "c"])}, ["b"]),
        ({"name": Filter("gt", "a")}, ["b", "c"]),
        ({"name": Filter("lte", "b")}, ["a", "b"]),
        ({"definition": Filter("has", "special")}, ["c"]),
        ({"tags": Filter("eq", ["x", "y"])}, ["a"]),
        ({"tags": Filter("eq", ["y"])}, ["a", "b"]),
    ],
)
def test_filters(filters: dict, expected: list[str]) -> None:
    db_api.create_workflow_definition(_wf("a", tags=["x", "y"]))
    db_api.create_workflow_definition(_wf("b", tags=["y"]))
    db_api.create_workflow_definition(_wf("c", definition="a special one"))
    found = db_api.list_workflow_definitions(ListQuery(filters=filters, sort_keys=["name"]))
    assert [w.name for w in found] == expected


def test_marker_paging_visits_every_row_once_in_both_directions() -> None:
    for i in range(7):
        db_api.create_workflow_definition(_wf(f"wf{i}", scope="public" if i % 2 else "private"))
    for sort_dirs in (["asc"], ["desc"]):
        seen, marker = [], None
        while True:
            q = ListQuery(limit=3, marker=marker, sort_keys=["scope", "name"], sort_dirs=sort_dirs)
            page = db_api.list_workflow_definitions(q)
            seen += [w.name for w in page]
            if len(page) < 3:
                break
            marker = page[-1].id
        assert sorted(seen) == [f"wf{i}" for i in range(7)]
        assert len(seen) == 7


def test_other_projects_see_public_objects_only_and_cannot_change_them() -> None:
    db_api.create_workflow_definition(_wf("mine"))
    db_api.create_workflow_definition(_wf("shared", scope="public"))
    with context.using(context.Context(project_id="other")):
        assert [w.name for w in db_api.list_workflow_definitions()] == ["shared"]
        with pytest.raises(NotFoundError):
            db_api.get_workflow_definition("mine")
        with pytest.raises(NotAllowedError):
            db_api.delete_workflow_definition("shared")


def test_a_workflow_is_found_as_each_caller_may_see_it_however_often_looked_up() -> None:
    own = db_api.create_workflow_definition(_wf("wf"))
    with context.using(context.Context(project_id="other")):
        assert db_api.load_workflow_definition("wf") is None
        theirs = db_api.create_workflow_definition(_wf("wf"))
        public = db_api.create_workflow_definition(_wf("pub", scope="public"))
    for _ in range(2):  # the second round finds the statements already built
        assert db_api.find_workflow_definition("wf", [""]).id == own.id
        assert db_api.load_workflow_definition("pub").id == public.id
        with context.using(context.Context(project_id="other")):
            assert db_api.find_workflow_definition("wf", [""]).id == theirs.id
        with context.using(context.Context(project_id="third")):
            assert db_api.load_workflow_definition("wf") is None
            assert db_api.load_workflow_definition(own.id, None) is None
        with context.using(context.Context(project_id="third", is_admin=True)):
            assert db_api.load_workflow_definition(own.id, None).id == own.id
    db_api.delete_workflow_definition("wf")
    assert db_api.load_workflow_definition("wf") is None


def test_environment_round_trip_keeps_nested_variables() -> None:
    db_api.create_environment({"name": "env", "variables": {"a": [1, {"b": None}]}, "scope": "private"})
    db_api.update_environment("env", {"description": "d"})
    env = db_api.get_environment("env")
    assert (env.variables, env.description) == ({"a": [1, {"b": None}]}, "d")


def test_sync_system_actions_adds_updates_and_removes() -> None:
    base = {"project_id": "<default-project>", "tags": [], "spec": None, "definition": None}
    db_api.sync_system_actions({"x.a": {**base, "input": "a"}, "x.b": {**base, "input": "b"}})
    db_api.sync_system_actions({"x.a": {**base, "input": "a, c=1"}})
    actions = db_api.list_action_definitions()
    assert [(a.name, a.input, a.is_system) for a in actions] == [("x.a", "a, c=1", True)]


def test_several_workflow_executions_are_locked_and_read_again_in_id_order() -> None:
    made = sorted((rows.wf_ex(state="RUNNING") for _ in range(3)), key=lambda ex: ex.id)
    wanted = [made[2].id, made[0].id, "no-such-execution"]
    with db_api.transaction():
        locked = db_api.lock_workflow_executions(wanted)
        assert [ex.id for ex in locked] == [made[0].id, made[2].id]
        assert all(ex.state == "RUNNING" for ex in locked)
    assert db_api.lock_workflow_executions([]) == []


@pytest.mark.parametrize(
    ("caller", "sees"),
    [
        (context.Context(project_id="owner"), True),
        (context.Context(project_id="other"), False),
        (context.Context(project_id="other", is_admin=True), True),
        (context.Context(project_id="other", is_internal=True), True),
    ],
)
def test_an_execution_by_id_is_seen_by_its_project_admins_and_the_engine_only(
    caller: context.Context, sees: bool
) -> None:
    with context.using(context.Context(project_id="owner")):
        wf_ex = rows.wf_ex()
        task_ex = rows.task_ex(wf_ex, "t")
        action_ex = rows.action_ex(task_ex)
    with context.using(caller):
        for get, load, row in (
            (db_api.get_workflow_execution, db_api.load_workflow_execution, wf_ex),
            (db_api.get_task_execution, db_api.load_task_execution, task_ex),
            (db_api.get_action_execution, db_api.load_action_execution, action_ex),
        ):
            if sees:
                assert get(row.id).id == load(row.id).id == row.id
            else:
                assert load(row.id) is None
                with pytest.raises(NotFoundError):
                    get(row.id)
        if sees:
            shown = db_api.get_action_execution_shown(action_ex.id)
            assert (shown.id, shown.task_name) == (action_ex.id, "t")
            assert db_api.get_action_to_apply(action_ex.id).id == action_ex.id
        else:
            for get_row in (db_api.get_action_execution_shown, db_api.get_action_to_apply):
                with pytest.raises(NotFoundError):
                    get_row(action_ex.id)
