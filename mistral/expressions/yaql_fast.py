"""A plain-Python path for the simplest YAQL expressions, with exactly yaql's results.

Most expressions of real workflows are a path into the context (``$.a``,
``$.a.b``), one arithmetic or comparison on it (``$.v + 1``, ``$.x * 3``,
``$.n < 10``) or the current task's result (``task().result``). yaql spends
tens of microseconds on each (overload resolution, input and output
conversion); here they cost a dictionary lookup.

An expression is taken here only when its shape is one of those, and it is
evaluated here only when the operand types make yaql's answer certain (both
numbers and neither a bool, both strings...). Anything else (a missing key, a
``None`` operand, a list where a dict was expected, a big integer) answers
``MISS`` and the caller evaluates it with yaql, which gives its usual result
or error. The work done here is bounded (a few lookups, one operation on
numbers below 2**63, a copy of a value already in the context), so the
time and memory limits, which guard yaql's evaluation, have nothing to guard.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from typing import Any

from mistral.expressions import functions as fn
from mistral.expressions import limits

#: The answer when the expression is not for this path: evaluate it with yaql.
MISS: Any = object()

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``$.a.b`` with no space inside; ``task()`` with an optional path after it.
_PATH_RE = re.compile(rf"\$((?:\.{_NAME})+)")
_TASK_RE = re.compile(rf"task\(\)((?:\.{_NAME})*)")
_INT_RE = re.compile(r"\d+")
_FLOAT_RE = re.compile(r"\d+\.\d+")
_STRING_RE = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")
_OPERATORS = ("!=", "<=", ">=", "+", "-", "*", "=", "<", ">")
_BINARY_RE = re.compile(r"^(.+?)\s*(!=|<=|>=|\+|-|\*|=|<|>)\s*(.+)$")
#: yaql's keywords and word operators: ``$.true`` or ``$.mod`` is not a key lookup in yaql.
_KEYWORDS = frozenset({"true", "false", "null", "and", "or", "not", "in", "mod"})
_LITERALS = {"true": True, "false": False, "null": None}

#: Integers beyond this go to yaql: arithmetic on them is not bounded in time.
_SMALL = 2**63

Operand = Callable[[Any, Any], Any]


def evaluate(text: str, data: Any, functions: fn.ExpressionFunctions | None) -> Any:
    """yaql's value of ``text`` (stripped, no delimiters) over ``data``, or ``MISS``."""
    compiled = _compile(text)
    if compiled is None:
        return MISS
    try:
        return compiled(data, functions)
    except RecursionError:  # NOTE: data nested deeper than Python's stack: yaql's error, in its words
        return MISS


@functools.lru_cache(maxsize=4096)
def _compile(text: str) -> Operand | None:
    whole = _operand(text, whole=True)
    if whole is not None:
        return whole
    match = _BINARY_RE.match(text)
    if match is None:
        return None
    left, op, right = _operand(match.group(1)), match.group(2), _operand(match.group(3))
    if left is None or right is None:
        return None
    return _binary(left, op, right)


def _operand(text: str, *, whole: bool = False) -> Operand | None:
    """A compiled operand; ``whole``: the expression is this operand alone (a value is copied out)."""
    path = _PATH_RE.fullmatch(text)
    if path is not None:
        return _path_operand(path.group(1), whole)
    task = _TASK_RE.fullmatch(text)
    if task is not None and (whole or task.group(1)):
        return _task_operand(task.group(1), whole)
    if whole:
        return None  # NOTE: a literal alone is not worth a path of its own
    if _FLOAT_RE.fullmatch(text):
        value: Any = float(text)
    elif _INT_RE.fullmatch(text):
        value = int(text)
    elif (string := _STRING_RE.fullmatch(text)) is not None:
        value = string.group(1) if string.group(1) is not None else string.group(2)
    elif text in _LITERALS:
        value = _LITERALS[text]
    else:
        return None
    return lambda _data, _functions: value


def _names(path: str) -> tuple[str, ...] | None:
    names = tuple(path[1:].split("."))
    # NOTE: yaql's lexer reads no name that starts with "__" as a key (``$.__env`` is not a lookup).
    return None if any(name in _KEYWORDS or name.startswith("__") for name in names) else names


def _path_operand(path: str, whole: bool) -> Operand | None:
    names = _names(path)
    if names is None:
        return None
    finish = _plain if whole else _scalar

    def get(data: Any, _functions: Any) -> Any:
        return finish(_follow(data, names))

    return get


def _task_operand(path: str, whole: bool) -> Operand | None:
    names = _names(path) if path else ()
    if names is None:
        return None
    finish = _plain if whole else _scalar

    def get(_data: Any, functions: fn.ExpressionFunctions | None) -> Any:
        if functions is None or functions.task is None:
            return MISS
        try:
            view = limits.call_shielded(fn.task, functions, None)
        except Exception:  # noqa: BLE001 - yaql calls it again and reports the error its own way
            return MISS
        return finish(_follow(view, names))

    return get


def _follow(value: Any, names: tuple[str, ...]) -> Any:
    """The value at ``names`` inside nested dicts; ``MISS`` where yaql would do anything but ``get``."""
    for name in names:
        # NOTE: yaql raises on a missing key, maps over a list of dicts, refuses other types.
        if type(value) is not dict or name not in value:
            return MISS
        value = value[name]
    return value


def _scalar(value: Any) -> Any:
    """An operand of an operator: a JSON scalar, or ``MISS``."""
    return value if value is None or type(value) in (bool, int, float, str) else MISS


def _plain(value: Any) -> Any:
    """A fresh copy of JSON data, as yaql's output conversion makes it; ``MISS`` for anything else."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():
            item = _plain(item)
            if type(key) is not str or item is MISS:
                return MISS
            copy[key] = item
        return copy
    if kind in (list, tuple):
        items = [_plain(item) for item in value]
        return MISS if any(item is MISS for item in items) else items
    return MISS


def _number(value: Any) -> bool:
    kind = type(value)
    return (kind is int and -_SMALL < value < _SMALL) or kind is float


_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_EQUALITY = {"=": operator.eq, "!=": operator.ne}


def _binary(left: Operand, op: str, right: Operand) -> Operand:
    if op in _ARITHMETIC:
        func, applies = _ARITHMETIC[op], _both_numbers
    elif op in _ORDER:
        func, applies = _ORDER[op], _comparable
    else:
        func, applies = _EQUALITY[op], _both_scalars

    def apply(data: Any, functions: Any) -> Any:
        a = left(data, functions)
        if a is MISS:
            return MISS
        b = right(data, functions)
        if b is MISS or not applies(a, b):
            return MISS
        return func(a, b)

    return apply


def _both_numbers(a: Any, b: Any) -> bool:
    return _number(a) and _number(b)


def _comparable(a: Any, b: Any) -> bool:
    return _both_numbers(a, b) or (type(a) is str and type(b) is str)


def _both_scalars(a: Any, b: Any) -> bool:
    # NOTE: yaql's ``=`` is Python's ``==`` on any two values; big integers go to yaql like the rest.
    return all(v is None or type(v) in (bool, str, float) or _number(v) for v in (a, b))
