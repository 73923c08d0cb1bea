"""Finding, checking and evaluating expressions inside arbitrary data structures."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
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


#: Strings up to this length have their shape remembered (a workflow's own texts); longer ones are data.
_REMEMBERED_UP_TO = 512


@dataclass(frozen=True)
class _Shape:
    yaql: bool
    jinja: bool
    #: the expression when the whole string is exactly one YAQL expression
    whole: str | None


def _shape(text: str) -> _Shape:
    """What ``text`` holds; a workflow's texts are read again for every item and every hop."""
    return _remembered_shape(text) if len(text) <= _REMEMBERED_UP_TO else _read_shape(text)


def _read_shape(text: str) -> _Shape:
    yaql, jinja = is_yaql(text), is_jinja(text)
    whole = _WHOLE_YAQL_RE.match(text) if yaql and not jinja else None
    return _Shape(yaql, jinja, whole.group("expr") if whole else None)


_remembered_shape = functools.lru_cache(maxsize=4096)(_read_shape)


def has_expression(value: Any) -> bool:
    """True if ``value`` is a string holding a YAQL or Jinja expression."""
    if not isinstance(value, str):
        return False
    shape = _shape(value)
    return shape.yaql or shape.jinja


def contains_expression(value: Any) -> bool:
    """True if any string inside ``value`` (keys included) holds an expression."""
    # NOTE: plain loops rather than a walk by generators: asked before every evaluation, on every hop.
    if isinstance(value, str):
        return has_expression(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if contains_expression(key) or contains_expression(item):
                return True
    elif isinstance(value, (list, tuple)):
        for item in value:
            if contains_expression(item):
                return True
    return False


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
    shape = _shape(text)
    if shape.yaql and shape.jinja:
        raise ExpressionError(f"Expression can't contain both YAQL and Jinja: {text!r}")
    if shape.jinja:
        return jinja_expr.evaluate(text, context, functions)
    if not shape.yaql:
        return text
    if shape.whole is not None:
        return yaql_expr.evaluate(shape.whole, context, functions)
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
