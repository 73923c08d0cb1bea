"""The workflow language v2: parsing and validating DSL documents into immutable specs.

Public API: ``parse_workflows``, ``parse_workbook``, ``parse_actions`` and the
spec classes in ``mistral.lang.specs``.
"""

from mistral.lang.parser import parse_actions, parse_workbook, parse_workflows
from mistral.lang.specs import (
    ActionSpec,
    OnClause,
    PublishSpec,
    RetrySpec,
    TaskDefaultsSpec,
    TaskSpec,
    Transition,
    WithItem,
    WorkbookSpec,
    WorkflowListSpec,
    WorkflowSpec,
)

__all__ = [
    "ActionSpec",
    "OnClause",
    "PublishSpec",
    "RetrySpec",
    "TaskDefaultsSpec",
    "TaskSpec",
    "Transition",
    "WithItem",
    "WorkbookSpec",
    "WorkflowListSpec",
    "WorkflowSpec",
    "parse_actions",
    "parse_workbook",
    "parse_workflows",
]
