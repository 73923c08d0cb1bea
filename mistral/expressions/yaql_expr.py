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
from mistral.expressions import functions as fn

#: One inline expression; non-greedy so several may share a string.
INLINE_RE = re.compile(r"<%(.*?)%>", re.DOTALL)

# Keys under which one evaluation's raw data and engine hooks sit in the yaql
# context; ``$`` cannot be used because yaql lambdas rebind it.
_DATA_KEY = "__mistral_data"
_FUNCS_KEY = "__mistral_functions"

# Mistral's defaults for the [yaql] options.
_ENGINE_OPTIONS = {
    "yaql.limitIterators": -1,
    "yaql.memoryQuota": -1,
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


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """Parse one YAQL expression (without the ``<% %>`` delimiters)."""
    with _PARSE_LOCK:
        return _ENGINE(text)


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

    def task(context, name=None):
        return _out(fn.task(_funcs(context), name))

    def tasks(context, workflow_execution_id=None, recursive=False, state=None, flat=False):
        return _out(fn.tasks(_funcs(context), workflow_execution_id, recursive, state, flat))

    def executions(context, id=None, root_execution_id=None, state=None, from_time=None, to_time=None):
        return _out(fn.executions(_funcs(context), id, root_execution_id, state, from_time, to_time))

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
    ):
        context.register_function(func, name=name)


_ROOT_CONTEXT = yaql.create_context()
_register_library(_ROOT_CONTEXT)


def evaluate(text: str, data: Any, functions: fn.ExpressionFunctions | None) -> Any:
    """Evaluate one YAQL expression (without delimiters) against ``data`` as ``$``."""
    try:
        parsed = compile_expression(text.strip())
    except yaql_exc.YaqlException as exc:
        raise ExpressionError(
            f"Invalid YAQL expression [expression=<% {text.strip()} %>, error={exc}]"
        ) from exc
    context = _ROOT_CONTEXT.create_child_context()
    context[_DATA_KEY] = data
    context[_FUNCS_KEY] = functions
    try:
        return parsed.evaluate(data=data, context=context)
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(
            f"Can not evaluate YAQL expression [expression=<% {text.strip()} %>, error={exc}]"
        ) from exc
