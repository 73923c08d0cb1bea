"""Test runs: which of a workflow's actions a ``mock_actions`` param replaces, and with what.

``params.mock_actions`` maps a task name or an action name to the result its actions give
instead of running: any JSON value is the result, ``{"error": value}`` (that one key) is a
failure. A task name wins over an action name. Pure decisions: the engine applies them
(``mistral.engine.mocked_actions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mistral import expressions
from mistral.exceptions import InputError
from mistral.lang.specs import WorkflowSpec

#: The execution param of a test run.
KEY = "mock_actions"
#: What a task without ``action`` and ``workflow`` runs.
DEFAULT_ACTION = "std.noop"


@dataclass(frozen=True)
class Mock:
    """The result a mocked action gives: its data, or (``failed``) its error."""

    value: Any
    failed: bool = False

    def result(self) -> dict[str, Any]:
        """As an executor reports a result: ``{"data": ...}`` or ``{"error": ...}``."""
        return {"error": self.value} if self.failed else {"data": self.value}


def _mock(raw: Any) -> Mock:
    if isinstance(raw, dict) and set(raw) == {"error"}:
        return Mock(raw["error"], failed=True)
    return Mock(raw)


def parse(value: Any) -> dict[str, Mock]:
    """The mocks of a ``mock_actions`` param, or an ``InputError`` naming what is wrong with it."""
    if not isinstance(value, dict):
        raise InputError(
            f"'params.{KEY}' must be a JSON object of task or action names to results, "
            f"got {type(value).__name__}"
        )
    mocks = {}
    for name, raw in value.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"'params.{KEY}': a key must be a task or action name, got {name!r}")
        if isinstance(raw, dict) and set(raw) == {"error"} and raw["error"] is None:
            raise InputError(f"'params.{KEY}.{name}': a mocked error must not be null")
        mocks[name] = _mock(raw)
    return mocks


def find(mock_actions: Mapping[str, Any] | None, task_name: str, action_name: str) -> Mock | None:
    """The mock of task ``task_name`` running ``action_name``, if the run has one (the task's wins)."""
    if not mock_actions:
        return None
    if task_name in mock_actions:
        return _mock(mock_actions[task_name])
    if action_name in mock_actions:
        return _mock(mock_actions[action_name])
    return None


@dataclass
class Names:
    """What a mock key may name in a tree of workflows."""

    #: tasks that run an action (with-items ones included)
    action_tasks: set[str] = field(default_factory=set)
    #: tasks that run a sub-workflow: not mockable themselves, their actions are
    workflow_tasks: set[str] = field(default_factory=set)
    #: action names written in the definitions
    actions: set[str] = field(default_factory=set)
    #: some task names its action with an expression: any action name may turn up at run time
    dynamic_actions: bool = False

    def add(self, spec: WorkflowSpec) -> list[str]:
        """Add the names of ``spec``; answers the sub-workflow names it gives literally."""
        children = []
        for name, task in spec.tasks.items():
            if task.workflow:
                self.workflow_tasks.add(name)
                if not expressions.contains_expression(task.workflow):
                    children.append(task.workflow)
                continue
            self.action_tasks.add(name)
            action = task.action or DEFAULT_ACTION
            if expressions.contains_expression(action):
                self.dynamic_actions = True
            else:
                self.actions.add(action)
        return children


def problems(keys: Iterable[str], names: Names) -> list[str]:
    """Why each key that can't mock anything in the tree of workflows ``names`` describes can't."""
    found = []
    for key in keys:
        if key in names.action_tasks or key in names.actions:
            continue
        if key in names.workflow_tasks:
            found.append(f"'{key}' is a task that runs a workflow: mock the actions of that workflow")
        elif not names.dynamic_actions:
            found.append(f"'{key}' is no task or action of the workflow or its sub-workflows")
    return found
