"""Work queued inside a caller's transaction leaves only when that whole transaction commits."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db import session as db_session
from mistral.engine import outbox, sender
from mistral.engine.unit_of_work import unit_of_work
from mistral.rpc.payloads import ActionRequest

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    boxes: list[list[Any]] = []

    def record(box: outbox.Outbox) -> None:
        if box.actions:
            boxes.append([request.action_ex_id for request in box.actions])
        box.clear()

    monkeypatch.setattr(sender, "send", record)
    return boxes


def _queue(action_id: str) -> None:
    with unit_of_work() as box:
        box.actions.append(ActionRequest(action_id, "std.noop"))


def _savepoint() -> Any:
    return db_session.current_session().begin_nested()


def test_on_its_own_a_unit_of_work_sends_when_it_ends(sent: list[list[Any]]) -> None:
    _queue("a")
    assert sent == [["a"]]


def test_in_a_savepoint_nothing_leaves_before_the_outermost_commit(sent: list[list[Any]]) -> None:
    with db_api.transaction():
        with _savepoint():
            _queue("a")
        with _savepoint():
            _queue("b")
        assert sent == []  # both savepoints were released: still nothing visible to others
    assert sorted(sent) == [["a"], ["b"]]


def test_a_savepoint_that_rolls_back_takes_its_work_with_it(sent: list[list[Any]]) -> None:
    with db_api.transaction():
        with _savepoint():
            _queue("kept")
        try:
            with _savepoint():
                _queue("undone")
                raise RuntimeError("the firing failed")
        except RuntimeError:
            pass
    assert sent == [["kept"]]


def test_nothing_leaves_when_the_outer_transaction_rolls_back(sent: list[list[Any]]) -> None:
    with pytest.raises(RuntimeError), db_api.transaction():
        with _savepoint():
            _queue("a")
        raise RuntimeError("the job failed")
    assert sent == []
