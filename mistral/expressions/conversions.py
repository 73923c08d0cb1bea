"""Handing data to yaql: its frozen form (tuples, FrozenDicts), made once per large value and scope.

yaql evaluates over an immutable copy of its input data. Copying the whole
context for every evaluation costs as much as the context is large: a
with-items task whose list sits in the workflow input copied that list once
per item, which made the task quadratic in its number of items.

Inside ``sharing()`` (one engine transaction), a large list or dict met again
(the same object: a value of the workflow input, of a task's inherited
context) is handed over in the form made the first time. The data an engine
transaction evaluates over is the JSON of its rows, which it replaces rather
than changes in place, so within one scope the same object holds the same
value. Outside a scope every evaluation converts afresh, as yaql does.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any

from yaql.language import utils as yaql_utils

#: Lists and dicts with fewer entries are converted each time: cheaper than remembering them.
SHARED_FROM = 32

#: Types yaql takes as they are (not sequences, mappings, sets nor iterables); ``bytes`` is not one.
_AS_IS = frozenset({str, int, float, bool, type(None)})

#: id(value) -> (value, its converted form); the value is held so that its id is not reused.
_Memo = dict[int, tuple[Any, Any]]
_shared: contextvars.ContextVar[_Memo | None] = contextvars.ContextVar("mistral_yaql_shared", default=None)


@contextlib.contextmanager
def sharing() -> Iterator[None]:
    """Share the conversion of large values until the block ends (nested blocks share the outer one)."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def to_yaql(data: Any) -> Any:
    """``data`` as yaql's own input data; the top level is always new (it is built per evaluation)."""
    memo = _shared.get()
    if memo is None or not isinstance(data, Mapping) or isinstance(data, yaql_utils.FrozenDict):
        return _convert(data)
    return yaql_utils.FrozenDict((_convert(key), _shared_form(value, memo)) for key, value in data.items())


def _shared_form(value: Any, memo: _Memo) -> Any:
    if not isinstance(value, (list, tuple, dict)) or len(value) < SHARED_FROM:
        return _convert(value)
    hit = memo.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    converted = _convert(value)
    memo[id(value)] = (value, converted)
    return converted


def _convert(value: Any) -> Any:
    """``yaql_utils.convert_input_data(value)``, without its isinstance chain for JSON's own types.

    NOTE: yaql asks each value whether it is a str, a Sequence, a Mapping, a set, an
    iterable (abstract classes, slow to ask): for a list of 100 000 numbers that is 20x
    the work of copying it. The JSON of our rows holds only dicts, lists and the types
    of ``_AS_IS``; anything else is left to yaql.
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is list or kind is tuple:
        as_is = _AS_IS
        for item in value:
            if type(item) not in as_is:
                return tuple(item if type(item) in as_is else _convert(item) for item in value)
        return tuple(value)
    if kind is dict:
        as_is = _AS_IS
        return yaql_utils.FrozenDict(
            (key if type(key) in as_is else _convert(key), item if type(item) in as_is else _convert(item))
            for key, item in value.items()
        )
    return yaql_utils.convert_input_data(value)
