"""Built-in expression functions shared by YAQL and Jinja.

The functions here need nothing from the engine. Those that do (``task()``,
``tasks()``, ``execution()``, ``executions()``) are supplied per evaluation
through :class:`ExpressionFunctions`, so this package never imports the engine.

Context conventions (keys of the data context passed to ``evaluate``):

* ``__env``: the execution environment, returned by ``env()``.
* ``__execution_globals``: the workflow's global variables (``publish: {global: ..}``),
  read by ``global(name)`` unless ``ExpressionFunctions.global_var`` is given.
* ``__execution``: the execution description, returned by ``execution()`` unless
  ``ExpressionFunctions.execution`` is given.
"""

from __future__ import annotations

import json
import uuid as uuid_lib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from mistral.exceptions import ExpressionError
from mistral.utils import nesting, safe_yaml

# NOTE: the keys the service reserves in a workflow execution's stored context (and, for
# GLOBALS_KEY, in the context an expression sees); the engine, the services and the API use these.
ENV_KEY = "__env"
GLOBALS_KEY = "__execution_globals"
EXECUTION_KEY = "__execution"
PUBLISHED_GLOBAL_KEY = "__published_global"


@dataclass(frozen=True)
class ExpressionFunctions:
    """Engine-provided hooks for the functions that need the database.

    Each is optional; calling a function whose hook is missing raises
    ``ExpressionError``. Signatures follow the Mistral language reference:

    * ``task(name=None) -> dict``: the named task (the current one when ``None``).
    * ``tasks(workflow_execution_id=None, recursive=False, state=None, flat=False) -> list[dict]``
    * ``execution() -> dict``: the current workflow execution.
    * ``executions(id=None, root_execution_id=None, state=None, from_time=None, to_time=None) -> list``
    * ``global_var(name) -> Any``: a workflow global variable.
    """

    task: Callable[..., Any] | None = None
    tasks: Callable[..., Any] | None = None
    execution: Callable[..., Any] | None = None
    executions: Callable[..., Any] | None = None
    global_var: Callable[[str], Any] | None = None


def _hook(functions: ExpressionFunctions | None, name: str) -> Callable[..., Any]:
    func = getattr(functions, name, None) if functions is not None else None
    if func is None:
        raise ExpressionError(f"Function {name}() is not available in this context")
    return func


def uuid_() -> str:
    return str(uuid_lib.uuid4())


def json_dump(data: Any) -> str:
    return json.dumps(data, indent=4, default=str)


def json_parse(text: str) -> Any:
    try:
        return nesting.loads_json(text)
    except nesting.TooDeepError as error:
        raise ExpressionError(f"json_parse(): the JSON is {error}") from None


def yaml_dump(data: Any) -> str:
    return safe_yaml.dump(data)


def yaml_parse(text: str) -> Any:
    try:
        return safe_yaml.load(text)
    except yaml.YAMLError as error:
        raise ExpressionError(f"yaml_parse(): not valid YAML: {error}") from error


def env(data: Any) -> Any:
    if not isinstance(data, Mapping):
        return {}
    return data.get(ENV_KEY) or {}


def global_(data: Any, functions: ExpressionFunctions | None, name: str) -> Any:
    if functions is not None and functions.global_var is not None:
        return functions.global_var(name)
    glob = data.get(GLOBALS_KEY) if isinstance(data, Mapping) else None
    return glob.get(name) if isinstance(glob, Mapping) else None


def execution(data: Any, functions: ExpressionFunctions | None) -> Any:
    if functions is not None and functions.execution is not None:
        return functions.execution()
    if isinstance(data, Mapping) and EXECUTION_KEY in data:
        return data[EXECUTION_KEY]
    return _hook(functions, "execution")()


def task(functions: ExpressionFunctions | None, name: str | None = None) -> Any:
    return _hook(functions, "task")(name)


def tasks(functions: ExpressionFunctions | None, *args: Any, **kwargs: Any) -> Any:
    return _hook(functions, "tasks")(*args, **kwargs)


def executions(functions: ExpressionFunctions | None, *args: Any, **kwargs: Any) -> Any:
    return _hook(functions, "executions")(*args, **kwargs)


#: Functions that need neither the data context nor the engine hooks.
PURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uuid": uuid_,
    "json_dump": json_dump,
    "json_parse": json_parse,
    "yaml_dump": yaml_dump,
    "yaml_parse": yaml_parse,
}
