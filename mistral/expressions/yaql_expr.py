"""YAQL ``<% %>`` expressions: parsing (cached), evaluation and the function library."""

from __future__ import annotations

import functools
import re
import threading

# NOTE: yaql uses collections.abc without importing it; this import provides it.
from collections.abc import Mapping
from typing import Any

import yaql
from yaql.language import exceptions as yaql_exc
from yaql.language import utils as yaql_utils

from mistral.exceptions import ExpressionError
from mistral.expressions import conversions, limits, yaql_fast, yaql_regex
from mistral.expressions import functions as fn

#: One inline expression; non-greedy so several may share a string.
INLINE_RE = re.compile(r"<%(.*?)%>", re.DOTALL)

# Keys under which one evaluation's raw data and engine hooks sit in the yaql
# context; ``$`` cannot be used because yaql lambdas rebind it.
_DATA_KEY = "__mistral_data"
_FUNCS_KEY = "__mistral_functions"

# Mistral's defaults for the [yaql] options it does not let operators change.
_ENGINE_OPTIONS = {
    "yaql.convertTuplesToLists": True,
    "yaql.convertSetsToLists": False,
    "yaql.iterableDicts": False,
    "yaql.convertOutputData": True,
}

_ENGINE = yaql.factory.YaqlFactory(keyword_operator="=>", allow_delegates=False).create(
    options=_ENGINE_OPTIONS
)
# NOTE: the ply lexer inside the engine keeps state while parsing, so parsing
# is serialized; evaluation of a parsed expression is thread-safe.
_PARSE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _limited_engine(iterations: int, quota: int) -> Any:
    """The engine with yaql's own checks of [yaql] limit_iterators and memory_quota."""
    return _ENGINE.copy({"yaql.limitIterators": iterations, "yaql.memoryQuota": quota})


def compile_expression(text: str) -> Any:
    """Parse one YAQL expression (without the ``<% %>`` delimiters)."""
    # NOTE: a parsed expression keeps its engine and reads the limits from it.
    return _compile(text, limits.iteration_limit(), limits.memory_quota())


@functools.lru_cache(maxsize=4096)
def _compile(text: str, iterations: int, quota: int) -> Any:
    with _PARSE_LOCK:
        return _limited_engine(iterations, quota)(text)


def syntax_error(text: str) -> str | None:
    """The parser's complaint about ``text``, or None when it parses."""
    try:
        compile_expression(text.strip())
    except yaql_exc.YaqlException as exc:
        return str(exc)
    return None


def _data(context: Any) -> Any:
    return context[_DATA_KEY]


def _funcs(context: Any) -> fn.ExpressionFunctions | None:
    return context[_FUNCS_KEY]


def _out(value: Any) -> Any:
    # Python values coming back into yaql must look like its own input data.
    return yaql_utils.convert_input_data(value)


def _plain(value: Any) -> Any:
    """yaql's frozen dicts and tuples back into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _register_library(context: Any) -> None:
    def uuid_():
        return fn.uuid_()

    def json_dump(data):
        return fn.json_dump(_plain(data))

    def json_parse(text):
        return _out(fn.json_parse(text))

    def yaml_dump(data):
        return fn.yaml_dump(_plain(data))

    def yaml_parse(text):
        return _out(fn.yaml_parse(text))

    def env(context):
        return _out(fn.env(_data(context)))

    def global_(context, name):
        return _out(fn.global_(_data(context), _funcs(context), name))

    def execution(context):
        return _out(fn.execution(_data(context), _funcs(context)))

    # NOTE: the functions that query the database are not interrupted halfway (see
    # limits); yaql reads the parameters' names, so these keep their own signatures.
    def task(context, name=None):
        return _out(limits.call_shielded(fn.task, _funcs(context), name))

    def tasks(context, workflow_execution_id=None, recursive=False, state=None, flat=False):
        return _out(
            limits.call_shielded(fn.tasks, _funcs(context), workflow_execution_id, recursive, state, flat)
        )

    def executions(context, id=None, root_execution_id=None, state=None, from_time=None, to_time=None):
        args = (id, root_execution_id, state, from_time, to_time)
        return _out(limits.call_shielded(fn.executions, _funcs(context), *args))

    def pow_(a, b, c=None):
        # NOTE: one C call that yaql's memory check only sees after it has run (for minutes).
        if c is None and isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b > 0:
            limits.check_size(limits.current_expression(), b * abs(a).bit_length() // 8)
        return pow(a, b, c)

    for name, func in (
        ("uuid", uuid_),
        ("json_dump", json_dump),
        ("json_parse", json_parse),
        ("yaml_dump", yaml_dump),
        ("yaml_parse", yaml_parse),
        ("env", env),
        ("global", global_),
        ("execution", execution),
        ("task", task),
        ("tasks", tasks),
        ("executions", executions),
        ("pow", pow_),
    ):
        context.register_function(func, name=name)


# NOTE: yaql's regex functions match with ``re``, which the time limit cannot cut
# short; ours (same names and signatures) match with ``regex`` under the limit.
_STANDARD_CONTEXT = yaql.create_context(regex=False)
yaql_regex.register(_STANDARD_CONTEXT)
# NOTE: a child of yaql's standard library, so that its functions (pow) take precedence.
_ROOT_CONTEXT = _STANDARD_CONTEXT.create_child_context()
_register_library(_ROOT_CONTEXT)


def evaluate(text: str, data: Any, functions: fn.ExpressionFunctions | None) -> Any:
    """Evaluate one YAQL expression (without delimiters) against ``data`` as ``$``."""
    value = yaql_fast.evaluate(text.strip(), data, functions)
    if value is not yaql_fast.MISS:
        return value
    return evaluate_with_yaql(text, data, functions)


def evaluate_with_yaql(text: str, data: Any, functions: fn.ExpressionFunctions | None) -> Any:
    """``evaluate`` by yaql itself, never by the fast path (yaql_fast)."""
    try:
        parsed = compile_expression(text.strip())
    except yaql_exc.YaqlException as exc:
        raise ExpressionError(
            f"Invalid YAQL expression [expression=<% {text.strip()} %>, error={exc}]"
        ) from exc
    context = _ROOT_CONTEXT.create_child_context()
    # NOTE: converted here rather than by ``evaluate(data=...)``, which copies all of it every time.
    context["$"] = conversions.to_yaql(data)
    context[_DATA_KEY] = data
    context[_FUNCS_KEY] = functions
    expression = f"<% {text.strip()} %>"
    limits.evaluating(expression)
    try:
        return parsed.evaluate(context=context)
    except (ExpressionError, limits.BudgetExceeded):
        raise
    except yaql_exc.CollectionTooLargeException:
        raise limits.iteration_limit_exceeded(expression) from None
    except yaql_exc.MemoryQuotaExceededException:
        raise limits.memory_quota_exceeded(expression) from None
    except Exception as exc:
        raise ExpressionError(
            f"Can not evaluate YAQL expression [expression=<% {text.strip()} %>, error={exc}]"
        ) from exc
