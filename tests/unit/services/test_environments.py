"""The one lookup of an execution's ``env`` param, shared by the API and the engine."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.exceptions import InputError
from mistral.services import environments, executions


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
