"""Specs rebuilt from the data stored with a definition or an execution.

Definitions are validated when uploaded; at run time the engine rebuilds the
spec from the stored dict without validating again, and keeps it cached: the
stored data of a definition never changes under the same key.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from mistral.lang.problems import Problems
from mistral.lang.specs import ActionSpec, WorkflowSpec
from mistral.lang.workflows import build_action, build_workflow
from mistral.lang.yaml_loader import Document


def _quiet() -> Problems:
    return Problems(Document(data=None), validate=False)


def workflow_spec(name: str, data: dict[str, Any], workbook: str | None = None) -> WorkflowSpec:
    """The spec of a stored workflow ``data`` (``wf_def.spec``); cached by content."""
    short = name.split(".", 1)[1] if workbook and name.startswith(f"{workbook}.") else name
    return _workflow_cached(short, json.dumps(data, sort_keys=True, default=str), workbook)


@functools.lru_cache(maxsize=512)
def _workflow_cached(short: str, data_json: str, workbook: str | None) -> WorkflowSpec:
    return build_workflow(short, json.loads(data_json), (short,), _quiet(), workbook=workbook)


def action_spec(name: str, data: dict[str, Any], workbook: str | None = None) -> ActionSpec:
    short = name.split(".", 1)[1] if workbook and name.startswith(f"{workbook}.") else name
    return _action_cached(short, json.dumps(data, sort_keys=True, default=str), workbook)


@functools.lru_cache(maxsize=512)
def _action_cached(short: str, data_json: str, workbook: str | None) -> ActionSpec:
    return build_action(short, json.loads(data_json), (short,), _quiet(), workbook=workbook)
