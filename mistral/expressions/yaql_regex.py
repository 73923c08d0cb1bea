"""yaql's regex functions, matching with the ``regex`` package under the time limit (architecture rule 9).

NOTE: Python's ``re`` matches in C, holding the GIL, and never looks at the
watchdog's asynchronous interrupt (``limits``): a user's pattern that
backtracks catastrophically (``regex('(a|a)+$').matches('aaa...a!')``) ran for
minutes and froze every thread of the service. The ``regex`` package takes a
``timeout`` on every matching call (and lets other threads run meanwhile), so
these functions pass it what is left of the evaluation's time limit.

Each function has the name, parameters and result of its namesake in
``yaql.standard_library.regex`` (yaql 3), which ``yaql_expr`` leaves out of
the context; only ``re`` became ``regex`` (its version 0, compatible with
``re``). ``escapeRegex`` matches nothing and stays yaql's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import regex as regex_lib
from yaql.language import specs, yaqltypes
from yaql.standard_library import regex as yaql_regex

from mistral.expressions import limits

R = TypeVar("R")

PATTERN_TYPE = regex_lib.Pattern

# NOTE: yaql's own helper, so that the values of ``$1``, ``$2``... stay exactly its.
_publish_match = yaql_regex._publish_match


def _bounded(call: Callable[..., R], *args: Any) -> R:
    """``call(*args)`` with the evaluation's remaining time as its timeout."""
    # NOTE: ``regex`` lets go of the GIL while it matches a str; ``concurrent=False``
    # would save ~20 us a call but freeze every other thread until the timeout.
    try:
        return call(*args, timeout=limits.time_left())
    except TimeoutError:
        limits.out_of_time()


@specs.parameter("pattern", yaqltypes.String())
def regex(pattern: str, ignore_case: bool = False, multi_line: bool = False, dot_all: bool = False) -> Any:
    """:yaql:regex (compiling does not backtrack: no timeout)"""
    flags = regex_lib.UNICODE
    if ignore_case:
        flags |= regex_lib.IGNORECASE
    if multi_line:
        flags |= regex_lib.MULTILINE
    if dot_all:
        flags |= regex_lib.DOTALL
    return regex_lib.compile(pattern, flags)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.method
def matches(regexp: Any, string: str) -> bool:
    """:yaql:matches ``regexp.matches(string)``"""
    return _bounded(regexp.search, string) is not None


@specs.parameter("string", yaqltypes.String())
@specs.parameter("regexp", yaqltypes.String())
@specs.method
def matches_(string: str, regexp: str) -> bool:
    """:yaql:matches ``string.matches(regexp)``"""
    return _bounded(regex_lib.search, regexp, string) is not None


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.name("#operator_=~")
def matches_operator_regex(string: str, regexp: Any) -> bool:
    """:yaql:operator =~ ``string =~ regex(...)``"""
    return _bounded(regexp.search, string) is not None


@specs.parameter("pattern", yaqltypes.String())
@specs.parameter("string", yaqltypes.String())
@specs.name("#operator_=~")
def matches_operator_string(string: str, pattern: str) -> bool:
    """:yaql:operator =~ ``string =~ pattern``"""
    return _bounded(regex_lib.search, pattern, string) is not None


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.name("#operator_!~")
def not_matches_operator_regex(string: str, regexp: Any) -> bool:
    """:yaql:operator !~ ``string !~ regex(...)``"""
    return _bounded(regexp.search, string) is None


@specs.parameter("pattern", yaqltypes.String())
@specs.parameter("string", yaqltypes.String())
@specs.name("#operator_!~")
def not_matches_operator_string(string: str, pattern: str) -> bool:
    """:yaql:operator !~ ``string !~ pattern``"""
    return _bounded(regex_lib.search, pattern, string) is None


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("selector", yaqltypes.Lambda(with_context=True))
@specs.method
def search(context: Any, regexp: Any, string: str, selector: Any = None) -> Any:
    """:yaql:search ``regexp.search(string, selector => null)``"""
    res = _bounded(regexp.search, string)
    new_context = context.create_child_context()
    if res is None:
        return None
    if selector is None:
        return res.group()
    _publish_match(new_context, res)
    return selector(new_context)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("selector", yaqltypes.Lambda(with_context=True))
@specs.method
def search_all(context: Any, regexp: Any, string: str, selector: Any = None) -> Iterator[Any]:
    """:yaql:searchAll ``regexp.searchAll(string, selector => null)``"""
    # NOTE: the timeout counts from here, while the results are read lazily.
    found = regexp.finditer(string, timeout=limits.time_left())
    return _search_all(context, found, selector)


def _search_all(context: Any, found: Iterator[Any], selector: Any) -> Iterator[Any]:
    try:
        for res in found:
            new_context = context.create_child_context()
            if selector is None:
                yield res.group()
            else:
                _publish_match(new_context, res)
                yield selector(new_context)
    except TimeoutError:
        limits.out_of_time()


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("max_split", int)
@specs.method
def split(regexp: Any, string: str, max_split: int = 0) -> list[str]:
    """:yaql:split ``regexp.split(string, maxSplit => 0)``"""
    return _bounded(regexp.split, string, max_split)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("max_split", int)
@specs.method
@specs.name("split")
def split_string(string: str, regexp: Any, max_split: int = 0) -> list[str]:
    """:yaql:split ``string.split(regexp, maxSplit => 0)``"""
    return _bounded(regexp.split, string, max_split)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("repl", yaqltypes.String())
@specs.parameter("count", int)
@specs.method
def replace(regexp: Any, string: str, repl: str, count: int = 0) -> str:
    """:yaql:replace ``regexp.replace(string, repl, count => 0)``"""
    return _bounded(regexp.sub, repl, string, count)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("repl", yaqltypes.String())
@specs.parameter("count", int)
@specs.method
@specs.name("replace")
def replace_string(string: str, regexp: Any, repl: str, count: int = 0) -> str:
    """:yaql:replace ``string.replace(regexp, repl, count => 0)``"""
    return replace(regexp, string, repl, count)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("repl", yaqltypes.Lambda(with_context=True))
@specs.parameter("count", int)
@specs.method
def replace_by(context: Any, regexp: Any, string: str, repl: Any, count: int = 0) -> str:
    """:yaql:replaceBy ``regexp.replaceBy(string, repl, count => 0)``"""

    def repl_func(match: Any) -> Any:
        new_context = context.create_child_context()
        # NOTE: published into ``context`` as yaql does (the child sees it too).
        _publish_match(context, match)
        return repl(new_context)

    return _bounded(regexp.sub, repl_func, string, count)


@specs.parameter("regexp", PATTERN_TYPE)
@specs.parameter("string", yaqltypes.String())
@specs.parameter("repl", yaqltypes.Lambda(with_context=True))
@specs.parameter("count", int)
@specs.method
@specs.name("replaceBy")
def replace_by_string(context: Any, string: str, regexp: Any, repl: Any, count: int = 0) -> str:
    """:yaql:replaceBy ``string.replaceBy(regexp, repl, count => 0)``"""
    return replace_by(context, regexp, string, repl, count)


def is_regex(value: Any) -> bool:
    """:yaql:isRegex"""
    return isinstance(value, PATTERN_TYPE)


def register(context: Any) -> None:
    """Register the functions in ``context``, in place of ``yaql.standard_library.regex``."""
    for func in (
        regex,
        matches,
        matches_,
        matches_operator_string,
        matches_operator_regex,
        not_matches_operator_string,
        not_matches_operator_regex,
        search,
        search_all,
        split,
        split_string,
        replace,
        replace_by,
        replace_string,
        replace_by_string,
        yaql_regex.escape_regex,
        is_regex,
    ):
        context.register_function(func)
