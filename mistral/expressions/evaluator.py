"""Finding, checking and evaluating expressions inside arbitrary data structures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mistral.exceptions import ExpressionError
from mistral.expressions import jinja_expr, limits, yaql_expr
from mistral.expressions.functions import ExpressionFunctions

#: A string that is exactly one YAQL expression: its value keeps its type.
_WHOLE_YAQL_RE = re.compile(r"^\s*<%(?P<expr>(?:(?!%>).)*)%>\s*$", re.DOTALL)


def is_yaql(text: str) -> bool:
    return yaql_expr.INLINE_RE.search(text) is not None


def is_jinja(text: str) -> bool:
    return jinja_expr.ANY_RE.search(text) is not None


def has_expression(value: Any) -> bool:
    """True if ``value`` is a string holding a YAQL or Jinja expression."""
    return isinstance(value, str) and (is_yaql(value) or is_jinja(value))


def contains_expression(value: Any) -> bool:
    """True if any string inside ``value`` (keys included) holds an expression."""
    return any(has_expression(s) for s in _strings(value))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def validate_string(text: str) -> list[str]:
    """One message per syntactically invalid expression in ``text``."""
    problems = []
    yaql, jinja = is_yaql(text), is_jinja(text)
    if yaql and jinja:
        # NOTE: one string is evaluated by one language; mixing would leave
        # the other's delimiters in the result, so it is refused up front.
        return [f"Expression can't contain both YAQL and Jinja: {text!r}"]
    if yaql:
        for match in yaql_expr.INLINE_RE.finditer(text):
            error = yaql_expr.syntax_error(match.group(1))
            if error:
                problems.append(f"Invalid YAQL expression {match.group(0)!r}: {error}")
    elif jinja:
        error = jinja_expr.syntax_error(text)
        if error:
            problems.append(f"Invalid Jinja expression {text!r}: {error}")
    return problems


def validate(value: Any) -> list[str]:
    """One message per syntactically invalid expression anywhere in ``value``."""
    problems: list[str] = []
    for text in _strings(value):
        problems.extend(validate_string(text))
    return problems


def _evaluate_string(text: str, context: Any, functions: ExpressionFunctions | None) -> Any:
    yaql, jinja = is_yaql(text), is_jinja(text)
    if yaql and jinja:
        raise ExpressionError(f"Expression can't contain both YAQL and Jinja: {text!r}")
    if jinja:
        return jinja_expr.evaluate(text, context, functions)
    if not yaql:
        return text
    whole = _WHOLE_YAQL_RE.match(text)
    if whole:
        return yaql_expr.evaluate(whole.group("expr"), context, functions)
    # Interpolation: each expression's value is rendered into the text.
    return yaql_expr.INLINE_RE.sub(
        lambda m: str(yaql_expr.evaluate(m.group(1), context, functions)),
        text,
    )


def evaluate(
    value: Any, context: Any, functions: ExpressionFunctions | None = None, *, budget: float | None = None
) -> Any:
    """Evaluate every expression in ``value`` (str, list, tuple, dict; recursively).

    A string that is exactly one expression yields that expression's typed
    value; any other string with expressions yields the interpolated text.
    YAQL sees ``context`` as ``$``; Jinja as ``_`` (and its keys as variables).
    Dict keys are evaluated too. Raises ``ExpressionError`` on any failure,
    ``limits.LimitExceeded`` past one of the [yaql] limits, whose time limit
    counts for the whole of ``value``; with a shorter ``budget``, running out
    of it raises ``limits.BudgetExceeded``.
    """
    return limits.timed(lambda: _evaluate(value, context, functions), budget)


def _evaluate(value: Any, context: Any, functions: ExpressionFunctions | None) -> Any:
    if isinstance(value, str):
        return _evaluate_string(value, context, functions)
    if isinstance(value, dict):
        return {_key(k, context, functions): _evaluate(v, context, functions) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_evaluate(item, context, functions) for item in value]
    return value


def _key(key: Any, context: Any, functions: ExpressionFunctions | None) -> Any:
    result = _evaluate(key, context, functions)
    try:
        hash(result)
    except TypeError:
        raise ExpressionError(
            f"Expression {key!r} used as a key gave an unhashable value {result!r}"
        ) from None
    return result
