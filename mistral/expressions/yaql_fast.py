"""A plain-Python path for the simplest YAQL expressions, with exactly yaql's results.

Most expressions of real workflows are a path into the context (``$.a``,
``$.a.b``), a little arithmetic, concatenation or comparison on such paths
(``$.v + 1``, ``$.x * 3``, ``$.n < 10``, ``$.x.name + ':' + str($.x.size * 2)``)
or the current task's result (``task().result``). yaql spends tens of
microseconds on each operator (overload resolution, input and output
conversion); here they cost a dictionary lookup.

An expression is taken here only when its shape is one of those: paths,
literals, ``str(...)``, parentheses and the operators ``* + - = != < <= > >=``
with yaql's precedence and associativity. It is evaluated here only when the
operand types make yaql's answer certain (both numbers and neither a bool,
both strings...). Anything else (a missing key, a ``None`` operand, a list
where a dict was expected, a big integer) answers ``MISS`` and the caller
evaluates it with yaql, which gives its usual result or error. The work done
here is bounded (a few dozen operations at most, on numbers below 2**63 and
strings of at most 64 KiB, a copy of a value already in the context), so the
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
#: One token of a compound expression, and yaql's blanks after it. Longer operators come first, as in
#: yaql's lexer; a character no group takes (``~``, ``.``, ``,``, a backslash...) ends the scan.
_TOKEN_RE = re.compile(
    rf"""(?:
        (?P<path>\$(?:\.{_NAME})+)
      | (?P<task>task\(\)(?:\.{_NAME})*)
      | (?P<call>str\()
      | (?P<number>[0-9]+(?:\.[0-9]+)?)(?![0-9A-Za-z_.])
      | (?P<string>'[^'\\]*'|"[^"\\]*")
      | (?P<word>{_NAME})
      | (?P<op>!=|<=|>=|[-+*=<>()])
    )[ \t\r\n]*""",
    re.VERBOSE,
)
#: yaql's keywords and word operators: ``$.true`` or ``$.mod`` is not a key lookup in yaql.
_KEYWORDS = frozenset({"true", "false", "null", "and", "or", "not", "in", "mod"})
_LITERALS = {"true": True, "false": False, "null": None}
#: The binary operators taken here, by yaql's precedence (higher binds tighter); all are left-associative.
_LEVELS = {"*": 3, "+": 2, "-": 2, "=": 1, "!=": 1, "<": 1, "<=": 1, ">": 1, ">=": 1}
#: Tokens in one compound expression: keeps parsing, the nesting and the evaluation small.
_MAX_TOKENS = 64

#: Integers beyond this go to yaql: arithmetic on them is not bounded in time.
_SMALL = 2**63
#: Concatenations longer than this go to yaql, under its limits.
_LONG = 64 * 1024

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
    tokens = _tokens(text)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    compiled = parser.expression(0)
    return compiled if parser.done() else None


def _tokens(text: str) -> list[tuple[str, str]] | None:
    """``(kind, text)`` of each token of ``text`` (stripped); None where a part is not one read here."""
    tokens: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _TOKEN_RE.match(text, pos)
        if match is None or len(tokens) == _MAX_TOKENS:
            return None
        kind = str(match.lastgroup)
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    """Precedence climbing over the tokens; None wherever the shape is not one this path takes."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def done(self) -> bool:
        return self.pos == len(self.tokens)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self, min_level: int) -> Operand | None:
        left = self._atom()
        while left is not None:
            token = self._peek()
            level = _LEVELS.get(token[1], 0) if token is not None and token[0] == "op" else 0
            if level <= min_level:
                return left
            assert token is not None  # NOTE: only an operator has a level above any minimum
            self.pos += 1
            right = self.expression(level)  # NOTE: only tighter operators on the right: left-associative
            left = None if right is None else _binary(left, token[1], right)
        return None

    def _atom(self) -> Operand | None:
        token = self._peek()
        if token is None:
            return None
        self.pos += 1
        kind, text = token
        if kind in ("path", "task"):
            return _operand(text)
        if kind == "number":
            if len(text) > 30:  # NOTE: yaql's error on a 5000-digit literal is its own to give
                return None
            return _literal(float(text) if "." in text else int(text))
        if kind == "string":
            return _literal(text[1:-1])
        if kind == "word":
            return _literal(_LITERALS[text]) if text in _LITERALS else None
        if kind == "call" or text == "(":
            inner = self.expression(0)
            if inner is None or self._peek() != ("op", ")"):
                return None
            self.pos += 1
            return _str_call(inner) if kind == "call" else inner
        return None


def _literal(value: Any) -> Operand:
    return lambda _data, _functions: value


def _operand(text: str, *, whole: bool = False) -> Operand | None:
    """A compiled path; ``whole``: the expression is this path alone (a value is copied out)."""
    path = _PATH_RE.fullmatch(text)
    if path is not None:
        return _path_operand(path.group(1), whole)
    task = _TASK_RE.fullmatch(text)
    if task is not None and (whole or task.group(1)):
        return _task_operand(task.group(1), whole)
    return None


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
    if op == "+":
        func, applies = operator.add, _addable
    elif op in _ARITHMETIC:
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


def _str_call(inner: Operand) -> Operand:
    def apply(data: Any, functions: Any) -> Any:
        return _text(inner(data, functions))

    return apply


def _text(value: Any) -> Any:
    """yaql's ``str(value)`` where it is certain; ``MISS`` for anything else (lists, dicts, big integers)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    kind = type(value)
    if kind is str:
        return value
    # NOTE: yaql's str() is Python's on numbers; big integers may pass Python's 4300-digit limit.
    return str(value) if kind is float or _number(value) else MISS


def _both_numbers(a: Any, b: Any) -> bool:
    return _number(a) and _number(b)


def _addable(a: Any, b: Any) -> bool:
    # NOTE: yaql's ``+`` on two strings is concat(); long ones go to yaql, under its limits.
    return _both_numbers(a, b) or (type(a) is str and type(b) is str and len(a) + len(b) <= _LONG)


def _comparable(a: Any, b: Any) -> bool:
    return _both_numbers(a, b) or (type(a) is str and type(b) is str)


def _both_scalars(a: Any, b: Any) -> bool:
    # NOTE: yaql's ``=`` is Python's ``==`` on any two values; big integers go to yaql like the rest.
    return all(v is None or type(v) in (bool, str, float) or _number(v) for v in (a, b))
