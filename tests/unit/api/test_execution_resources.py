"""Every execution resource's sample renders with JSON strings and reads back the same."""

from __future__ import annotations

import json

import pytest
import wsme.rest.json
from wsme import types as wtypes

from mistral.api.controllers.types import anyjsontype
from mistral.api.controllers.v2 import execution_resources as res
from tests.unit.api import rows

JSON_FIELDS = {
    res.Execution: ("input", "output", "params", "published_global"),
    res.Task: ("runtime_context", "result", "published", "published_global"),
    res.ActionExecution: ("input", "output", "params"),
}


@pytest.mark.parametrize("cls", list(JSON_FIELDS))
def test_sample_round_trip(cls: type[res.Resource]) -> None:
    rendered = cls.sample().to_json()
    for name in JSON_FIELDS[cls]:
        assert isinstance(rendered[name], str), name
        json.loads(rendered[name])
    again = wsme.rest.json.fromjson(cls, rendered)
    loose = [a.name for a in wtypes.list_attributes(cls) if a.datatype is anyjsontype]
    for name in loose:
        # NOTE: an any-JSON field reads back as its JSON text; decoded, it is the same value.
        assert json.loads(getattr(again, name)) == json.loads(rendered[name])
        setattr(again, name, json.loads(getattr(again, name)))
    assert again.to_json() == rendered


@pytest.mark.parametrize(
    ("params", "name", "expected"),
    [({}, "errors_only", False), ({"errors_only": ""}, "errors_only", False), ({"x": "True"}, "x", True)],
)
def test_query_flag(params: dict, name: str, expected: bool) -> None:
    assert res.query_flag(params, name) is expected


def test_query_flag_and_depth_reject_garbage() -> None:
    with pytest.raises(res.RequestError, match="errors_only"):
        res.query_flag({"errors_only": "maybe"}, "errors_only")
    with pytest.raises(res.RequestError, match="max_depth"):
        res.max_depth({"max_depth": "deep"})
    assert res.max_depth({}) == -1 and res.max_depth({"max_depth": "2"}) == 2


def test_an_action_s_accepted_is_its_result_applied_in_answers_filters_and_order(db: str) -> None:
    root = rows.wf_ex()
    task = rows.task_ex(root, "t")
    applied = rows.action_ex(task, result_applied=True, created_at=rows.at(1))
    pending = rows.action_ex(task, state="RUNNING", result_applied=False, created_at=rows.at(2))
    assert res.render_action_execution(applied, task_names={})["accepted"] is True
    listed = res.list_action_executions({"accepted": "false"})["action_executions"]
    assert [(a["id"], a["accepted"]) for a in listed] == [(pending.id, False)]
    ordered = res.list_action_executions({"sort_keys": "accepted", "sort_dirs": "desc"})["action_executions"]
    assert [a["id"] for a in ordered] == [applied.id, pending.id]
