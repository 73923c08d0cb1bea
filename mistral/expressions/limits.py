"""Time, iteration and memory limits of one evaluation (architecture rule 9: user text is untrusted).

NOTE: evaluation is pure Python in whatever thread asked for it (an RPC worker,
the scheduler, an API request), so the time limit cannot be a signal (main
thread only) nor a check inside yaql's function calls (``sequence().len()``
loops inside one call). One watchdog thread keeps every evaluation's deadline
and, once one passes, raises ``_Interrupt`` inside the evaluating thread with
``PyThreadState_SetAsyncExc``; the interpreter delivers it at the thread's next
bytecode. Work that must not be torn in half (a database query of ``tasks()``)
runs ``shielded``: the watchdog waits and the shield raises when it ends. The
normal path costs one registration (a dict write under an uncontended lock).

The time limit counts the evaluating thread's CPU time, not the clock on the wall:
on a busy engine an evaluation waits for the interpreter lock and for a core, and
measured against the wall a 1 s expression failed its task under load (seen with
``select`` over 10 000 results and the 5 s default). A wall deadline of
WAITING_FACTOR times the limit still ends one that waits without end. A caller's
budget (the engine holding a lock others wait on) is wall time, as the lock is.
"""

from __future__ import annotations

import ctypes
import functools
import math
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

from mistral import config
from mistral.exceptions import ExpressionError, ServiceStopping

P = ParamSpec("P")
R = TypeVar("R")

#: How much of an expression's text a message quotes.
_SHOWN = 200
#: An evaluation may take this many times the time limit on the wall (waiting for a core, the
#: interpreter lock or a query) before it is cut although its running time is under the limit.
WAITING_FACTOR = 10
#: Whether a thread's CPU clock can be read from another thread (Linux, the BSDs; not macOS).
_THREAD_CLOCKS = hasattr(time, "pthread_getcpuclockid")


class LimitExceeded(ExpressionError):
    """An expression went past one of the [yaql] limits; the message names both."""

    def __init__(self, expression: str, what: str, option: str) -> None:
        super().__init__(f"Expression {shown(expression)!r} exceeded {what} ([yaql] {option})")
        self.expression, self.what, self.option = expression, what, option


class BudgetExceeded(Exception):  # noqa: N818 - not an error of the expression, see below
    """A caller's budget shorter than the time limit ran out.

    The expression did nothing wrong yet: the caller (the engine, holding a lock)
    may evaluate it again elsewhere with the full ``[yaql] expression_time_limit``.
    """

    def __init__(self, expression: str, budget: float) -> None:
        super().__init__(f"Expression {shown(expression)!r} did not finish within {budget:g} s")
        self.expression, self.budget = expression, budget


class _Interrupt(BaseException):
    """Raised asynchronously inside an evaluation that overran; never escapes ``timed``.

    NOTE: a BaseException, so that ``except Exception`` in yaql, Jinja or our
    functions cannot swallow it.
    """


def shown(expression: str) -> str:
    text = expression.strip()
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


@functools.cache
def _options() -> Any:
    # NOTE: the group object, kept: looking it up again costs as much as reading the option.
    return config.CONF.yaql


def time_limit() -> float:
    return float(_options().expression_time_limit)


def time_limit_in_lock() -> float:
    return float(_options().expression_time_limit_in_lock)


def iteration_limit() -> int:
    return int(_options().limit_iterators)


def memory_quota() -> int:
    return int(_options().memory_quota)


def time_limit_exceeded(expression: str) -> LimitExceeded:
    return LimitExceeded(expression, f"the time limit of {time_limit():g} s", "expression_time_limit")


def iteration_limit_exceeded(expression: str) -> LimitExceeded:
    return LimitExceeded(expression, f"the iteration limit of {iteration_limit()} items", "limit_iterators")


def memory_quota_exceeded(expression: str) -> LimitExceeded:
    return LimitExceeded(expression, f"the memory quota of {memory_quota()} bytes", "memory_quota")


class _Evaluation:
    """One thread's running evaluation: its deadlines and what it is evaluating now."""

    __slots__ = (
        "thread_id", "deadline", "clock", "cpu_deadline", "budget", "expression", "shield", "expired",
        "fired", "fired_at", "stopped",
    )  # fmt: skip

    def __init__(self, thread_id: int, seconds: float, budget: float | None) -> None:
        self.thread_id = thread_id
        #: the thread's CPU clock, when the time limit is counted in running time
        self.clock: int | None = None
        self.cpu_deadline = math.inf
        if budget is None and seconds != math.inf and _THREAD_CLOCKS:
            self.clock = time.pthread_getcpuclockid(thread_id)
            self.cpu_deadline = time.clock_gettime(self.clock) + seconds
            seconds *= WAITING_FACTOR
        #: on the wall (time.monotonic)
        self.deadline = time.monotonic() + seconds
        #: the caller's budget when it is shorter than the time limit
        self.budget = budget
        self.expression = ""
        self.shield = 0
        self.expired = False
        self.fired = False
        self.fired_at = 0.0
        self.stopped = False

    def overran(self, now: float) -> bool:
        """Past the wall deadline, or past the time limit in the thread's running time."""
        if self.deadline <= now:
            return True
        if self.clock is None:
            return False
        try:
            return time.clock_gettime(self.clock) >= self.cpu_deadline
        except OSError:  # NOTE: the thread has ended (it unregisters first, so this is only a guard)
            return False

    def time_left(self) -> float:
        """What remains of the earlier deadline: on the wall, or of the thread's running time."""
        left = self.deadline - time.monotonic()
        if self.clock is not None:
            left = min(left, self.cpu_deadline - time.clock_gettime(self.clock))
        return max(left, 0.0)


class _Watchdog:
    """Looks at the running evaluations every TICK seconds and interrupts those past their deadline.

    NOTE: it ticks rather than being woken by each registration: waking it costs
    a switch of the GIL to it and back, for every evaluation of a busy engine
    (measured: a third slower on concurrent executions). A deadline is thus
    met within TICK seconds.
    """

    TICK = 0.05
    #: While an interrupted evaluation still runs, its interrupt is sent again this often: Python
    #: drops one raised inside a finalizer or weakref callback ("Exception ignored in ...").
    RESEND = 0.5

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._running: dict[int, _Evaluation] = {}
        self._started = False

    def current(self) -> _Evaluation | None:
        return self._running.get(threading.get_ident())

    def register(self, evaluation: _Evaluation) -> None:
        with self._lock:
            self._running[evaluation.thread_id] = evaluation
            if not self._started:
                self._started = True
                threading.Thread(target=self._loop, name="expression-watchdog", daemon=True).start()

    def unregister(self, evaluation: _Evaluation) -> None:
        """Called by the evaluating thread itself; may raise an ``_Interrupt`` still on its way."""
        with self._lock:
            self._running.pop(evaluation.thread_id, None)
            if evaluation.fired:
                # NOTE: fired but perhaps not yet delivered (the evaluation ended first): withdraw it.
                _withdraw_interrupt()

    def shield(self, evaluation: _Evaluation) -> None:
        with self._lock:
            evaluation.shield += 1

    def unshield(self, evaluation: _Evaluation) -> bool:
        """Leave a shield; True when the deadline passed meanwhile."""
        with self._lock:
            evaluation.shield -= 1
            return evaluation.shield == 0 and evaluation.expired

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for evaluation in list(self._running.values()):
                    if not evaluation.expired:
                        if not evaluation.overran(now):
                            continue
                        evaluation.expired = True
                    elif now - evaluation.fired_at < self.RESEND:
                        continue
                    if evaluation.shield == 0:
                        evaluation.fired, evaluation.fired_at = True, now
                        _set_async_exc(evaluation.thread_id, _Interrupt)
                self._cond.wait(self.TICK)


class _Withdrawn(BaseException):
    """Takes the place of an interrupt withdrawn before delivery, and is delivered at once."""


def _set_async_exc(thread_id: int, exc: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))


def _withdraw_interrupt() -> None:
    """This thread's pending ``_Interrupt``, if any, is replaced by ``_Withdrawn``, delivered and dropped.

    NOTE: not ``PyThreadState_SetAsyncExc(id, NULL)``: on CPython 3.11 that leaves the
    interpreter's signal of a pending exception set (only a delivered one clears it), and a
    thread being traced (a debugger, coverage, cProfile) looped at its next call, at full CPU,
    for good: seen as an engine hung in a with-items run under cProfile.
    """
    try:
        _set_async_exc(threading.get_ident(), _Withdrawn)
        _delivery_point()
    except _Withdrawn:
        pass


def _delivery_point() -> None:
    """Does nothing: entering a Python function is where the interpreter delivers a pending exception."""


_WATCHDOG = _Watchdog()


def stop_running() -> int:
    """The services are stopping: cut every evaluation running now short; returns how many.

    NOTE: only those: the results the stop still applies evaluate as usual.
    """
    with _WATCHDOG._lock:
        running = [e for e in _WATCHDOG._running.values() if not e.expired]
        for evaluation in running:
            evaluation.deadline, evaluation.stopped = 0.0, True
        _WATCHDOG._cond.notify()
    return len(running)


def timed(func: Callable[[], R], budget: float | None = None) -> R:
    """Call ``func`` under the time limit (or ``budget``, if shorter); nested calls share the outer limit.

    Raises ``LimitExceeded`` (or ``BudgetExceeded``) naming the expression being
    evaluated when time ran out (see ``evaluating``).
    """
    if _WATCHDOG.current() is not None:
        return func()
    limit = time_limit()
    short = budget if budget is not None and (limit <= 0 or budget < limit) else None
    # NOTE: registered even without a limit, so that a stop of the service can cut it short.
    seconds = short if short is not None else (limit if limit > 0 else math.inf)
    evaluation = _Evaluation(threading.get_ident(), seconds, short)
    # NOTE: the interrupt may arrive anywhere from the registration to the end of the
    # unregistration (the evaluation ended just as it fired): every such place is
    # inside this outer try, and unregistering twice is harmless.
    try:
        _WATCHDOG.register(evaluation)
        try:
            return func()
        finally:
            _WATCHDOG.unregister(evaluation)
    except _Interrupt:
        _unregister_for_good(evaluation)
        raise _overrun(evaluation) from None


def _unregister_for_good(evaluation: _Evaluation) -> None:
    # NOTE: until the unregistration has taken the evaluation off the watchdog's list, a resent
    # interrupt may still arrive; once off it, none comes and any pending one is withdrawn.
    while True:
        try:
            _WATCHDOG.unregister(evaluation)
            return
        except _Interrupt:
            continue


def _overrun(evaluation: _Evaluation) -> BaseException:
    if evaluation.stopped:
        return ServiceStopping(f"The service is stopping: {shown(evaluation.expression)!r} was cut short")
    if evaluation.budget is not None:
        return BudgetExceeded(evaluation.expression, evaluation.budget)
    return time_limit_exceeded(evaluation.expression)


def evaluating(expression: str) -> None:
    """Record which expression the current evaluation runs now (for the message on overrun)."""
    evaluation = _WATCHDOG.current()
    if evaluation is not None:
        evaluation.expression = expression


def time_left() -> float | None:
    """Seconds left before the current evaluation's deadline; None when it has none (or none runs).

    For a C call that never looks at the watchdog's interrupt but takes a
    timeout of its own (a regex match): given this, it ends at the deadline.
    """
    evaluation = _WATCHDOG.current()
    if evaluation is None or evaluation.deadline == math.inf:
        return None
    return evaluation.time_left()


def out_of_time() -> NoReturn:
    """A call given ``time_left()`` as its timeout ran out: end the evaluation as the watchdog would.

    ``timed`` turns it into the same error as an interrupt (the time limit, the
    caller's budget or the stop of the service).
    """
    raise _Interrupt


def shielded(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` (a database lookup of an expression function) without being interrupted inside.

    A deadline passing meanwhile interrupts the evaluation as soon as ``func`` returns.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return call_shielded(func, *args, **kwargs)

    return wrapper


def call_shielded(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``func`` as ``shielded`` does."""
    evaluation = _WATCHDOG.current()
    if evaluation is None:
        return func(*args, **kwargs)
    _WATCHDOG.shield(evaluation)
    try:
        return func(*args, **kwargs)
    finally:
        if _WATCHDOG.unshield(evaluation):
            raise _Interrupt


def check_size(expression: str, size: int) -> None:
    """Refuse to build a value of ``size`` bytes (or items) beyond the memory quota."""
    quota = memory_quota()
    if quota > 0 and size > quota:
        raise memory_quota_exceeded(expression)


def current_expression() -> str:
    evaluation = _WATCHDOG.current()
    return evaluation.expression if evaluation is not None else ""
