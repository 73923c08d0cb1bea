"""Use cases for environments: named sets of variables executions can use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError
from mistral.services.definitions import check_scope


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if not isinstance(values.get("name"), str) or not values["name"].strip():
        raise InputError("Environment 'name' is required and must be a non-empty string")
    if "variables" in values and not isinstance(values["variables"], dict):
        raise InputError("Environment 'variables' must be a JSON object")
    if (
        "description" in values
        and values["description"] is not None
        and not isinstance(values["description"], str)
    ):
        raise InputError("Environment 'description' must be a string")
    if "scope" in values:
        check_scope(values["scope"])
    return values


def variables_of(env: Any) -> dict[str, Any]:
    """The variables an execution's ``env`` param stands for: a dict as given, a name (or id) looked up.

    NOTE: the one lookup for the API and the engine (a cron trigger's params name an environment
    that is read when it fires). None and "" mean no environment, as in Mistral; an unknown name
    is bad input (400), not a missing resource, since the request names it as a value.
    """
    if env is None or env == "":
        return {}
    if isinstance(env, dict):
        return env
    if not isinstance(env, str):
        raise InputError(f"'env' must be a JSON object or an environment name, got {type(env).__name__}")
    found = db_api.load_environment(env)
    if found is None:
        raise InputError(f"Environment is not found: {env}")
    return dict(found.variables or {})


@db_api.retry_on_transient
def create_environment(values: Mapping[str, Any]) -> models.Environment:
    values = _checked(values)
    values.setdefault("variables", {})
    values.setdefault("scope", "private")
    return db_api.create_environment(values)


@db_api.retry_on_transient
def update_environment(values: Mapping[str, Any]) -> models.Environment:
    values = _checked(values)
    return db_api.update_environment(values.pop("name"), values)


@db_api.retry_on_transient
def delete_environment(name: str) -> None:
    db_api.delete_environment(name)
