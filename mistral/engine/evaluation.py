"""Evaluating expressions inside the engine's transactions without making others wait (architecture rule 9).

Inside a transaction, which holds what other work waits for (SQLite's one
writer slot, a workflow execution's row lock), an evaluation may run only
[yaql] expression_time_limit_in_lock. One that needs longer has done nothing
wrong: the unit of work rolls back (``WorkOutsideTransaction``), the retry
layer evaluates the expression again with no transaction open and the full
[yaql] expression_time_limit, memoizing the outcome (its value, or the error
that fails the task) by the expression and a digest of all it saw, and the
unit of work runs again and takes the outcome from the memo.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral import context, expressions
from mistral.db import api as db_api
from mistral.db import session as db_session
from mistral.exceptions import ExpressionError, MistralError, WorkOutsideTransaction
from mistral.expressions import limits

LOG = logging.getLogger(__name__)

Functions = expressions.ExpressionFunctions | None
#: Expression functions for an evaluation after the transaction ended, and what
#: else the outcome depends on besides the expression and its data (for the memo key).
Detach = Callable[[], tuple[Functions, Any]]

#: Outcomes kept for the unit of work's next run; that run comes at once, so few, briefly.
_MEMO_SIZE = 256
_MEMO_SECONDS = 120.0


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: MistralError | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Memo:
    """Outcomes by key; the expressions (``value_key``) and rough keys they are for: cheap first checks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[str, tuple[float, Outcome]] = collections.OrderedDict()
        self._values: dict[str, float] = {}
        self._rough: dict[str, float] = {}

    def get(self, key: str) -> Outcome | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    def knows(self, value_key: str) -> bool:
        expires = self._values.get(value_key)
        return expires is not None and expires >= time.monotonic()

    def knows_rough(self, rough_key: str) -> bool:
        expires = self._rough.get(rough_key)
        return expires is not None and expires >= time.monotonic()

    def __bool__(self) -> bool:
        return bool(self._values)

    def put(self, value_key: str, rough_key: str, key: str, outcome: Outcome) -> None:
        expires = time.monotonic() + _MEMO_SECONDS
        with self._lock:
            self._items[key] = (expires, outcome)
            self._items.move_to_end(key)
            while len(self._items) > _MEMO_SIZE:
                self._items.popitem(last=False)
            self._values[value_key] = expires
            self._rough[rough_key] = expires
            now = time.monotonic()
            self._values = {k: v for k, v in self._values.items() if v >= now}
            self._rough = {k: v for k, v in self._rough.items() if v >= now}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._values = {}
            self._rough = {}


_MEMO = _Memo()


def evaluate(
    value: Any,
    ctx: Any,
    functions: expressions.ExpressionFunctions | None = None,
    *,
    detach: Detach | None = None,
) -> Any:
    """``expressions.evaluate``, deferred outside the transaction when it would hold it too long.

    ``detach`` (called only then, while the transaction is still open) gives
    the functions to evaluate with afterwards, and what the outcome depends on
    besides ``value`` and ``ctx``.
    """
    if db_session.current_session() is None or not db_api.outside_work_allowed():
        return expressions.evaluate(value, ctx, functions)
    value_key = None
    if _MEMO:  # NOTE: only for a while after a slow expression: the unit of work run again takes it at once
        value_key = _value_key(value)
        if _MEMO.knows(value_key):
            seen = detach()[1] if detach is not None else None
            # NOTE: the full key digests all the data (a with-items list of 100 000 numbers: 10 ms);
            # the items of a with-items task differ in small values, which the rough key tells apart.
            if _MEMO.knows_rough(_rough_key(value_key, ctx, seen)):
                outcome = _MEMO.get(_key(value_key, ctx, seen))
                if outcome is not None:
                    return outcome.unwrap()
    budget = limits.time_limit_in_lock()
    try:
        return expressions.evaluate(value, ctx, functions, budget=budget)
    except expressions.BudgetExceeded as overrun:
        later_functions, seen = detach() if detach is not None else (functions, None)
        value_key = value_key or _value_key(value)
        key = _key(value_key, ctx, seen)
        outcome = _MEMO.get(key)
        if outcome is not None:
            return outcome.unwrap()
        rough_key = _rough_key(value_key, ctx, seen)
        work = _evaluate_later(value_key, rough_key, key, value, ctx, later_functions, context.current())
        raise WorkOutsideTransaction(
            f"{overrun.expression} runs longer than {budget:g} s ([yaql] expression_time_limit_in_lock)", work
        ) from None


def _evaluate_later(
    value_key: str, rough_key: str, key: str, value: Any, ctx: Any, functions: Functions, caller: Any
) -> Callable[[], None]:
    def work() -> None:
        with context.using(caller):
            try:
                outcome = Outcome(value=expressions.evaluate(value, ctx, functions))
            except MistralError as error:
                outcome = Outcome(error=error)
            except Exception as error:  # noqa: BLE001 - a function's failure is the expression's outcome
                LOG.exception("Evaluating an expression outside its transaction failed")
                outcome = Outcome(error=ExpressionError(f"Can not evaluate expression: {error}"))
        _MEMO.put(value_key, rough_key, key, outcome)

    return work


def _digest(*parts: Any) -> str:
    try:
        text = json.dumps(parts, default=repr)
    except (TypeError, ValueError):  # NOTE: keys json can't write (tuples); repr is as deterministic
        text = repr(parts)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _value_key(value: Any) -> str:
    return _digest(value)


def _key(value_key: str, ctx: Any, seen: Any) -> str:
    return _digest(value_key, ctx, seen)


#: Lists and dicts at least this long count in a rough key by their length only.
_ROUGH_FROM = 32


def _rough_key(value_key: str, ctx: Any, seen: Any) -> str:
    """A digest that is equal whenever ``_key`` is, and costs little whatever the data's size.

    The top level of ``ctx`` and ``seen`` is kept; a large value in it counts by its length.
    """
    return _digest(value_key, _rough(ctx), _rough(seen))


def _rough(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _summary(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_summary(v) for v in data]
    return _summary(data)


def _summary(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)) and len(value) >= _ROUGH_FROM:
        return ["<large>", len(value)]
    return value
