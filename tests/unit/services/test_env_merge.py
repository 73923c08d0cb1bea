"""Merging an env update into an execution: one function for the API's update and the engine's resume."""

from __future__ import annotations

from mistral.db import models
from mistral.services import executions


def test_the_update_is_merged_deeply_into_params_and_context() -> None:
    wf_ex = models.WorkflowExecution(
        params={"env": {"a": 1, "nested": {"x": 1}}, "namespace": "ns"},
        context={"__env": {"a": 1, "nested": {"x": 1}}, "v": 2},
    )
    params, ctx = executions.with_env_merged(wf_ex, {"b": 2, "nested": {"y": 3}})
    env = {"a": 1, "b": 2, "nested": {"x": 1, "y": 3}}
    assert params == {"env": env, "namespace": "ns"}
    assert ctx == {"__env": env, "v": 2}
    assert wf_ex.params["env"] == {"a": 1, "nested": {"x": 1}}, "the row is replaced, not changed in place"


def test_a_context_not_made_yet_is_left_to_the_first_step() -> None:
    wf_ex = models.WorkflowExecution(params={}, context=None)
    params, ctx = executions.with_env_merged(wf_ex, {"b": 2})
    assert params == {"env": {"b": 2}}
    assert ctx is None
