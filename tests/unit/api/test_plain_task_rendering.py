"""A listed task rendered without WSME is the JSON WSME renders; any other value is left to WSME."""

from __future__ import annotations

import json

import pytest

from mistral.api.controllers.v2 import execution_resources as res
from mistral.db import api as db_api
from tests.unit.api import rows


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"state": "RUNNING", "state_info": None, "tags": None, "published": {}, "runtime_context": {}},
        {"state": "ERROR", "state_info": "Failed: ünïcode ✓", "tags": ["a", "b"], "processed": True},
        {"runtime_context": {"with_items": {"count": 3, "done": [0, 2]}, "text": '\u2028 "{"'}},
        {"published": {"nested": {"list": [1, 2.5, None, True]}}, "reset": True, "type": "WORKFLOW"},
        {"result": {"big": list(range(100))}},
    ],
)
@pytest.mark.parametrize("fields", [None, []])
def test_a_listed_task_renders_as_wsme_renders_it(db: str, values: dict, fields: list[str] | None) -> None:
    task_ex = rows.task_ex(rows.wf_ex(), "t1", **values)
    model = db_api.get_task_execution(task_ex.id)
    rendered = res.render_task(model, fields)
    assert json.dumps(rendered) == json.dumps(res.render_task_wsme(model, fields, full=False))
    assert "result" not in rendered and "env" not in rendered and "published_global" not in rendered


class _Text(str):
    pass


def test_a_value_of_another_kind_and_a_full_task_are_left_to_wsme(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = db_api.get_task_execution(rows.task_ex(rows.wf_ex(), "t1").id)
    by_wsme: list[bool] = []
    wsme = res.render_task_wsme

    def recorded(*args: object, **kwargs: object) -> dict:
        by_wsme.append(True)
        return wsme(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(res, "render_task_wsme", recorded)
    res.render_task(model)
    assert by_wsme == []
    model.state_info = _Text("a str of another type")  # WSME says what it makes of it
    assert res.render_task(model)["state_info"] == "a str of another type"
    res.render_task(model, full=True)
    res.render_task(model, ["name"])
    assert by_wsme == [True, True, True]
