"""The one lookup of an execution's ``env`` param, shared by the API and the engine."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.engine import engine as engine_module
from mistral.exceptions import InputError
from mistral.services import definitions, environments, executions


@pytest.mark.parametrize("env", [None, ""])
def test_no_env_is_no_variables(env: Any) -> None:
    assert environments.variables_of(env) == {}


def test_a_dict_is_the_variables_as_given() -> None:
    env = {"a": 1}
    assert environments.variables_of(env) is env


def test_a_name_gives_the_environment_s_variables(db: str) -> None:
    environments.create_environment({"name": "prod", "variables": {"host": "x"}})
    assert environments.variables_of("prod") == {"host": "x"}


def test_an_unknown_name_is_bad_input(db: str) -> None:
    with pytest.raises(InputError, match=r"^Environment is not found: nowhere$"):
        environments.variables_of("nowhere")


@pytest.mark.parametrize("env", [3, ["a"], 1.5, True])
def test_neither_a_dict_nor_a_name_is_bad_input(env: Any) -> None:
    with pytest.raises(InputError, match=f"got {type(env).__name__}$"):
        environments.variables_of(env)


def test_the_api_params_get_the_same_answer(db: str) -> None:
    environments.create_environment({"name": "prod", "variables": {"host": "x"}})
    assert executions.resolve_env({"env": "prod", "x": 1}) == {"env": {"host": "x"}, "x": 1}
    assert executions.resolve_env({"x": 1}) == {"x": 1}, "no env stays absent"
    with pytest.raises(InputError):
        executions.resolve_env({"env": 7})


def test_the_engine_looks_an_env_up_the_same_way(db: str, sent: list[Any]) -> None:
    definitions.create_workflows("version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n")
    environments.create_environment({"name": "prod", "variables": {"host": "x"}})
    engine = engine_module.get()
    started = engine.start_workflow("wf", params={"env": "prod"})
    assert db_api.get_workflow_execution(started["id"]).params["env"] == {"host": "x"}
    started = engine.start_workflow("wf", params={"env": ""})
    assert db_api.get_workflow_execution(started["id"]).params["env"] == {}
    with pytest.raises(InputError, match="Environment is not found: nowhere"):
        engine.start_workflow("wf", params={"env": "nowhere"})
