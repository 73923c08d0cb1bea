"""YAQL ``<% %>`` and Jinja ``{{ }}`` expressions.

Public API: ``validate``, ``evaluate``, ``has_expression`` and ``ExpressionFunctions``
(the engine's hooks for ``task()``, ``tasks()``, ``execution()``, ``executions()``
and ``global()``); see ``mistral.expressions.functions`` for the context keys.
"""

from mistral.expressions.conversions import sharing as sharing_conversions
from mistral.expressions.evaluator import (
    contains_expression,
    evaluate,
    has_expression,
    validate,
    validate_string,
)
from mistral.expressions.functions import (
    ENV_KEY,
    EXECUTION_KEY,
    GLOBALS_KEY,
    PUBLISHED_GLOBAL_KEY,
    ExpressionFunctions,
)
from mistral.expressions.limits import BudgetExceeded, LimitExceeded

__all__ = [
    "BudgetExceeded",
    "LimitExceeded",
    "ENV_KEY",
    "EXECUTION_KEY",
    "GLOBALS_KEY",
    "PUBLISHED_GLOBAL_KEY",
    "ExpressionFunctions",
    "contains_expression",
    "evaluate",
    "has_expression",
    "sharing_conversions",
    "validate",
    "validate_string",
]
