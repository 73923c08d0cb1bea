"""The two ways Mistral renders a params spec: JSON defaults for actions, Python text for workflows."""

from __future__ import annotations

import pytest

from mistral.utils.inputs import Param, format_spec, format_workflow_spec

# Each default, as Mistral 23.0.0 rendered it in a workflow's and in an ad-hoc action's ``input``.
CASES = [
    pytest.param("2", '"2"', '"2"', id="string"),
    pytest.param(3, '"3"', "3", id="int"),
    pytest.param(1.5, '"1.5"', "1.5", id="float"),
    pytest.param(None, '"None"', "null", id="null"),
    pytest.param(True, '"True"', "true", id="bool"),
    pytest.param([1, "x"], "\"[1, 'x']\"", '[1, "x"]', id="list"),
    pytest.param({"k": "v"}, "\"{'k': 'v'}\"", '{"k": "v"}', id="dict"),
    pytest.param("", '""', '""', id="empty"),
]


@pytest.mark.parametrize(("default", "workflow", "action"), CASES)
def test_defaults(default: object, workflow: str, action: str) -> None:
    params = [Param("a"), Param("b", default)]
    assert format_workflow_spec(params) == f"a, b={workflow}"
    assert format_spec(params) == f"a, b={action}"


def test_no_params() -> None:
    assert format_workflow_spec([]) == format_spec([]) == ""
