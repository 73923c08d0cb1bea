"""Test runs at their start: the ``mock_actions`` param checked against the workflows it may mock.

The mocks themselves apply where a task resolves its action (``task_work.resolve_action``);
a sub-workflow inherits its parent's (``subworkflows.start``), so a key may name a task or an
action of any workflow the run may reach.
"""

from __future__ import annotations

from typing import Any

from mistral import config, context
from mistral.db import models
from mistral.engine import subworkflows
from mistral.exceptions import InputError, NotFoundError
from mistral.lang import stored
from mistral.lang.specs import WorkflowSpec
from mistral.services import workflow_versions
from mistral.workflow import mocks


def check_start(
    wf_def: models.WorkflowDefinition, version: workflow_versions.Version | None, params: dict[str, Any]
) -> None:
    """A 400 naming each ``mock_actions`` key that mocks nothing; nothing to check without the param.

    ``version`` is the definition the execution is to run (the current one when None); ``params``
    its params, ``namespace`` (where its sub-workflows are looked up) included.
    """
    if mocks.KEY not in params:
        return
    given = mocks.parse(params[mocks.KEY])
    spec_data = version.spec if version is not None else wf_def.spec
    spec = stored.workflow_spec(wf_def.name, spec_data or {}, wf_def.workbook_name)
    found = mocks.problems(given, _names_of_tree(spec, params.get("namespace") or ""))
    if found:
        raise InputError(f"Invalid 'params.{mocks.KEY}': {'; '.join(found)}")


def _names_of_tree(spec: WorkflowSpec, namespace: str) -> mocks.Names:
    """The names in ``spec`` and in the sub-workflows it names literally, as the caller finds them.

    NOTE: a sub-workflow named by an expression, or not found now, adds nothing: a key that only
    it has is refused (name its task instead, or its action where an expression names none).
    """
    names = mocks.Names()
    owner = context.current()
    seen: set[str] = set()
    pending = [(spec, 0)]
    while pending:
        current, depth = pending.pop()
        for child in names.add(current):
            if depth >= config.CONF.engine.max_subworkflow_depth:
                continue
            try:
                wf_def = subworkflows.find_definition(owner, child, namespace, current.workbook_name)
            except NotFoundError:
                continue
            if wf_def.id not in seen:
                seen.add(wf_def.id)
                child_spec = stored.workflow_spec(wf_def.name, wf_def.spec or {}, wf_def.workbook_name)
                pending.append((child_spec, depth + 1))
    return names
