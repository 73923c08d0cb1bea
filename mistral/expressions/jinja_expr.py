"""Jinja ``{{ }}`` / ``{% %}`` expressions in a sandbox: parsing (cached), evaluation, functions."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2 import sandbox

from mistral.exceptions import ExpressionError
from mistral.expressions import functions as fn
from mistral.expressions import limits

#: Anything that makes a string a Jinja template.
ANY_RE = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)
#: A string that is one ``{{ expr }}`` and nothing else: its value keeps its type.
WHOLE_RE = re.compile(r"^\s*{{(?P<expr>(?:(?!}}).)*)}}\s*$", re.DOTALL)

# Name of the render variable carrying the engine hooks into the functions.
_FUNCS_KEY = "__mistral_functions"
#: Widths in a format string (``'%9999999999d'``, ``'{:>9999999999}'``) that would allocate the result.
_WIDTH_RE = re.compile(r"\d{6,}")
#: ``str`` methods whose integer arguments are the length of their result.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format"})


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


# NOTE: the functions that query the database are not interrupted halfway (see limits).
@jinja2.pass_context
@limits.shielded
def _task(ctx: Any, name: str | None = None) -> Any:
    return fn.task(_hooks(ctx), name)


@jinja2.pass_context
@limits.shielded
def _tasks(ctx: Any, *args: Any, **kwargs: Any) -> Any:
    return fn.tasks(_hooks(ctx), *args, **kwargs)


@jinja2.pass_context
@limits.shielded
def _executions(ctx: Any, *args: Any, **kwargs: Any) -> Any:
    return fn.executions(_hooks(ctx), *args, **kwargs)


def _range(*args: int) -> range:
    """Jinja's ``range`` bounded by [yaql] limit_iterators instead of a fixed 100 000."""
    items = range(*args)
    limit = limits.iteration_limit()
    if 0 <= limit < len(items):
        raise limits.iteration_limit_exceeded(limits.current_expression())
    return items


def _uuid(*_: Any) -> str:
    # As a filter it receives the piped value, which it ignores.
    return fn.uuid_()


_LIBRARY: dict[str, Callable[..., Any]] = {
    **fn.PURE_FUNCTIONS,
    "uuid": _uuid,
    "env": _env,
    "global": _global,
    "execution": _execution,
    "task": _task,
    "tasks": _tasks,
    "executions": _executions,
}


class _LimitedSandbox(sandbox.ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing before they run the one-step operations that would
    allocate past [yaql] memory_quota (repetition, powers, padded formatting)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repetition(left, right)
            _check_repetition(right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_widths(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # NOTE: the sandbox hands out ``str.format`` wrapped; the method is behind the wrapper.
        method = getattr(__obj, "__wrapped__", __obj)
        if isinstance(getattr(method, "__self__", None), str) and method.__name__ in _WIDTH_METHODS:
            _check_widths(method.__self__)
            for arg in args:
                if isinstance(arg, int):
                    limits.check_size(limits.current_expression(), arg)
        return super().call(__context, __obj, *args, **kwargs)


def _check_repetition(seq: Any, times: Any) -> None:
    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and not isinstance(times, bool):
        # NOTE: a list holds a pointer (8 bytes) per item.
        size = len(seq) * times * (1 if isinstance(seq, str) else 8)
        limits.check_size(limits.current_expression(), size)


def _check_power(base: Any, exp: Any) -> None:
    if isinstance(base, int) and isinstance(exp, int) and abs(base) > 1 and exp > 0:
        limits.check_size(limits.current_expression(), exp * abs(base).bit_length() // 8)


def _check_widths(fmt: str) -> None:
    for digits in _WIDTH_RE.findall(fmt):
        limits.check_size(limits.current_expression(), int(digits))


def _make_env() -> sandbox.SandboxedEnvironment:
    env = _LimitedSandbox(trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_LIBRARY)
    env.globals["range"] = _range
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
    limits.evaluating(text)
    try:
        if whole and not _has_block(text):
            return compile_expression(whole.group("expr").strip())(**variables)
        rendered = compile_template(text).render(**variables)
        limits.check_size(text, len(rendered))
        return rendered
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(f"Can not evaluate Jinja expression [expression={text}, error={exc}]") from exc


def _has_block(text: str) -> bool:
    return "{%" in text
