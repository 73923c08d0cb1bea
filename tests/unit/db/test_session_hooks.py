"""Work tied to a transaction's end: called at the outermost commit, or when its part rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import orm

from mistral.db import api as db_api
from mistral.db import session as db_session

pytestmark = pytest.mark.usefixtures("db")


def _savepoint() -> orm.SessionTransaction:
    session = db_session.current_session()
    assert session is not None
    return session.begin_nested()


def test_on_commit_waits_for_the_outermost_commit() -> None:
    calls: list[str] = []
    with db_api.transaction():
        with _savepoint():
            db_session.on_commit(lambda: calls.append("committed"))
        assert calls == [], "a savepoint's release is no commit others see"
    assert calls == ["committed"]


def test_on_commit_is_not_called_when_the_transaction_rolls_back() -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError), db_api.transaction():
        db_session.on_commit(lambda: calls.append("committed"))
        raise RuntimeError("failed")
    assert calls == []


def test_on_rollback_is_called_once_when_its_savepoint_and_the_transaction_roll_back() -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError), db_api.transaction():
        with _savepoint():
            db_session.on_rollback(lambda: calls.append("rolled back"))
            raise RuntimeError("failed")
    assert calls == ["rolled back"]


def test_on_rollback_ignores_a_later_savepoint_that_rolls_back_alone() -> None:
    calls: list[str] = []
    with db_api.transaction():
        db_session.on_rollback(lambda: calls.append("rolled back"))
        with pytest.raises(RuntimeError), _savepoint():
            raise RuntimeError("failed")
    assert calls == []


def test_outside_a_transaction_there_is_nothing_to_hook() -> None:
    with pytest.raises(RuntimeError, match="No transaction"):
        db_session.on_commit(lambda: None)
