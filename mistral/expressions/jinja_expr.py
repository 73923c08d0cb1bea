"""Jinja ``{{ }}`` / ``{% %}`` expressions in a sandbox: parsing (cached), evaluation, functions."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import sandbox

from mistral.exceptions import ExpressionError
from mistral.expressions import functions as fn

#: Anything that makes a string a Jinja template.
ANY_RE = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)
#: A string that is one ``{{ expr }}`` and nothing else: its value keeps its type.
WHOLE_RE = re.compile(r"^\s*{{(?P<expr>(?:(?!}}).)*)}}\s*$", re.DOTALL)

# Name of the render variable carrying the engine hooks into the functions.
_FUNCS_KEY = "__mistral_functions"


def _hooks(ctx: Any) -> fn.ExpressionFunctions | None:
    return ctx.get(_FUNCS_KEY)


def _root(ctx: Any) -> Any:
    return ctx.get("_")


# Context-aware functions take the Jinja context first so that they work both
# as globals (``{{ env() }}``) and as filters (``{{ 'task1' | task }}``).
@jinja2.pass_context
def _env(ctx: Any, *_: Any) -> Any:
    return fn.env(_root(ctx))


@jinja2.pass_context
def _global(ctx: Any, name: str) -> Any:
    return fn.global_(_root(ctx), _hooks(ctx), name)


@jinja2.pass_context
def _execution(ctx: Any, *_: Any) -> Any:
    return fn.execution(_root(ctx), _hooks(ctx))


@jinja2.pass_context
def _task(ctx: Any, name: str | None = None) -> Any:
    return fn.task(_hooks(ctx), name)


@jinja2.pass_context
def _tasks(ctx: Any, *args: Any, **kwargs: Any) -> Any:
    return fn.tasks(_hooks(ctx), *args, **kwargs)


@jinja2.pass_context
def _executions(ctx: Any, *args: Any, **kwargs: Any) -> Any:
    return fn.executions(_hooks(ctx), *args, **kwargs)


def _uuid(*_: Any) -> str:
    # As a filter it receives the piped value, which it ignores.
    return fn.uuid_()


_LIBRARY = {
    **fn.PURE_FUNCTIONS,
    "uuid": _uuid,
    "env": _env,
    "global": _global,
    "execution": _execution,
    "task": _task,
    "tasks": _tasks,
    "executions": _executions,
}


def _make_env() -> sandbox.SandboxedEnvironment:
    env = sandbox.SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_LIBRARY)
    env.filters.update(_LIBRARY)
    return env


_ENV = _make_env()


@functools.lru_cache(maxsize=4096)
def compile_template(text: str) -> jinja2.Template:
    return _ENV.from_string(text)


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """A callable returning the typed value of one ``{{ }}`` body."""
    return _ENV.compile_expression(text)


def syntax_error(text: str) -> str | None:
    """The parser's complaint about the template ``text``, or None when it parses."""
    try:
        _ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return str(exc)
    return None


def _variables(data: Any, functions: fn.ExpressionFunctions | None) -> dict[str, Any]:
    variables = dict(data) if isinstance(data, Mapping) else {}
    variables["_"] = data
    variables[_FUNCS_KEY] = functions
    return variables


def evaluate(text: str, data: Any, functions: fn.ExpressionFunctions | None) -> Any:
    """Evaluate a Jinja string: a lone ``{{ expr }}`` keeps its type, the rest renders to text."""
    variables = _variables(data, functions)
    whole = WHOLE_RE.match(text)
    try:
        if whole and not _has_block(text):
            return compile_expression(whole.group("expr").strip())(**variables)
        return compile_template(text).render(**variables)
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(f"Can not evaluate Jinja expression [expression={text}, error={exc}]") from exc


def _has_block(text: str) -> bool:
    return "{%" in text
