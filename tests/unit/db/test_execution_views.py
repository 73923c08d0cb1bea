"""The execution as the API shows it, read as a row: same values as the model, same visibility."""

from __future__ import annotations

import json

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.queries.execution_views import JSON_TEXT_COLUMNS, SHOWN_COLUMNS
from mistral.db.types import StoredJson
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")


def test_the_row_holds_the_models_values_of_the_shown_columns() -> None:
    wf_ex = rows.wf_ex(state="RUNNING", tags=["a"], state_info="why", task_execution_id=None)
    row = db_api.load_workflow_execution_shown(wf_ex.id)
    model = db_api.get_workflow_execution(wf_ex.id)
    assert {name: _decoded(getattr(row, name)) for name in SHOWN_COLUMNS} == {
        name: getattr(model, name) for name in SHOWN_COLUMNS
    }
    assert row.context == '{"__published_global": {"g": 7}}' and type(row.context) is StoredJson
    assert not hasattr(row, "runtime_context")  # never shown, possibly large: not read


def _decoded(value: object) -> object:
    return json.loads(value) if isinstance(value, StoredJson) else value


def test_its_dicts_are_their_stored_json_text() -> None:
    wf_ex = rows.wf_ex(input={"b": [1, 2.5, None], "a": "é"}, output=None, params={})
    row = db_api.load_workflow_execution_shown(wf_ex.id)
    assert {name for name in SHOWN_COLUMNS if type(getattr(row, name)) is StoredJson} == JSON_TEXT_COLUMNS - {
        "output"
    }
    assert row.input == json.dumps({"b": [1, 2.5, None], "a": "é"}) and row.output is None


def test_unknown_id_is_none() -> None:
    assert db_api.load_workflow_execution_shown("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize(
    ("caller", "sees"),
    [
        (context.Context(project_id="owner"), True),
        (context.Context(project_id="other"), False),
        (context.Context(project_id="other", is_admin=True), True),
        (context.Context(project_id="other", is_internal=True), True),
    ],
)
def test_seen_by_its_project_admins_and_the_engine_only(caller: context.Context, sees: bool) -> None:
    with context.using(context.Context(project_id="owner")):
        wf_ex = rows.wf_ex()
    with context.using(caller):
        row = db_api.load_workflow_execution_shown(wf_ex.id)
    assert (row is not None) is sees


def test_inside_a_transaction_it_sees_that_transactions_writes() -> None:
    wf_ex = rows.wf_ex(state="RUNNING")
    with db_api.transaction():
        db_api.update_workflow_execution(wf_ex.id, {"state": "PAUSED"})
        assert db_api.load_workflow_execution_shown(wf_ex.id).state == "PAUSED"
    assert db_api.load_workflow_execution_shown(wf_ex.id).state == "PAUSED"
