"""Kept statements read on SQLite's driver connection give SQLAlchemy's rows, outside a transaction only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.db import models, query, row_reads, session
from mistral.db.queries import execution_views
from tests.unit.api import rows

pytestmark = pytest.mark.usefixtures("db")


def _by_sqlalchemy(stmt: sa.Select, params: dict) -> sa.Row | None:
    with session.transaction(read_only=True) as s:
        return s.connection().execute(stmt, params).first()


@pytest.mark.parametrize("caller", ["owner", "other", "admin"])
def test_the_row_is_sqlalchemys_for_every_caller(caller: str) -> None:
    with context.using(context.Context(project_id="owner")):
        wf_ex = rows.wf_ex(state="RUNNING", tags=["a"], state_info="why", test_run=True)
    as_caller = context.Context(project_id=caller, is_admin=caller == "admin")
    with context.using(as_caller):
        read = db_api.load_workflow_execution_shown(wf_ex.id)
        stmt, scope = query.kept_for_caller(execution_views._shown_by_id(), models.WorkflowExecution)
        expected = _by_sqlalchemy(stmt, {"id": wf_ex.id, **scope})
    if caller == "other":
        assert read is None and expected is None
        return
    assert read is not None and expected is not None
    assert tuple(read) == tuple(expected)
    assert [type(v) for v in read] == [type(v) for v in expected]
    assert read.created_at == expected.created_at and read.test_run is True


def test_in_a_transaction_the_read_sees_its_own_writes() -> None:
    with session.transaction():
        wf_ex = rows.wf_ex()
        assert db_api.load_workflow_execution_shown(wf_ex.id) is not None


def test_an_unknown_id_is_none_and_a_statement_it_cannot_run_is_refused() -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    assert session.read_first(execution_views._shown_by_id(), {"id": unknown}) is None
    many = sa.select(models.WorkflowExecution.id).where(
        models.WorkflowExecution.id.in_(sa.bindparam("ids", expanding=True))
    )
    # NOTE: on PostgreSQL its placeholders are named, which it refuses too.
    with pytest.raises(ValueError, match="expanding"):
        row_reads.first(session.get_engine(), many, {"ids": ["x"]})
