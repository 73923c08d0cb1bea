"""Scheduling delayed calls, and the registry of functions they may call.

A job is a row, not a callable: it names a registered function and its
keyword arguments, so any engine process can run it after a restart.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mistral import context
from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.exceptions import DuplicateError

JobFunc = Callable[..., Any]
F = TypeVar("F", bound=JobFunc)


@dataclasses.dataclass(frozen=True)
class GiveUp:
    """What a give-up handler is told: the job that failed ``attempts`` times, and its last error."""

    job_id: str
    func_name: str
    args: dict[str, Any]
    error: str
    attempts: int


#: Called once a job has failed ``[scheduler] max_attempts`` times, in its own
#: transaction (with the job's context), so the work the job stood for ends
#: with a reason instead of vanishing.
GiveUpHandler = Callable[[GiveUp], None]

_registry: dict[str, JobFunc] = {}
_give_up_handlers: dict[str, GiveUpHandler] = {}
#: Told the due time of every job this process schedules, once its transaction has committed.
_listeners: list[Callable[[datetime.datetime], None]] = []
_registry_lock = threading.Lock()


def register(name: str, func: JobFunc, *, on_give_up: GiveUpHandler | None = None) -> None:
    """Make ``func`` runnable as ``name``; registering another function under a used name is a bug."""
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None and existing is not func:
            raise ValueError(f"Scheduled job function {name!r} is already registered to {existing!r}")
        _registry[name] = func
        if on_give_up is not None:
            _give_up_handlers[name] = on_give_up


def unregister(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)
        _give_up_handlers.pop(name, None)


def job(name: str, *, on_give_up: GiveUpHandler | None = None) -> Callable[[F], F]:
    """Decorator: ``@job("engine.run_delayed_task")`` registers the function under that name.

    ``on_give_up`` is called when the job has failed too often (see ``GiveUpHandler``);
    without one such a job is logged and dropped.
    """

    def decorate(func: F) -> F:
        register(name, func, on_give_up=on_give_up)
        return func

    return decorate


def get(name: str) -> JobFunc | None:
    """The function registered as ``name``, or ``None``."""
    return _registry.get(name)


def get_give_up_handler(name: str) -> GiveUpHandler | None:
    """The give-up handler registered with ``name``, or ``None``."""
    return _give_up_handlers.get(name)


def schedule(
    func_name: str,
    *,
    delay: float = 0,
    run_after: datetime.datetime | None = None,
    func_args: dict[str, Any] | None = None,
    key: str | None = None,
) -> str:
    """Write a job into the caller's transaction and return its id.

    The job exists iff the caller's transaction commits, so the state that
    needs it and the job appear together (architecture rule 2). With ``key``, a job
    already holding that key is replaced. ``run_after`` (naive UTC) wins over
    ``delay`` seconds from now.
    """
    if run_after is None:
        run_after = utcnow() + datetime.timedelta(seconds=max(delay, 0))
    values = {
        "func_name": func_name,
        "func_args": dict(func_args or {}),
        "run_after": run_after,
        "key": key,
        "context": _kept_context(context.current()).to_dict(),
    }
    with db_api.transaction():
        db_api.on_commit(lambda: _tell(run_after))
        if key is None:
            return db_api.create_scheduled_job(values).id
        try:
            return _replace(values, key)
        except DuplicateError:
            # NOTE: a concurrent transaction inserted the same key after our
            # delete; once it has committed our second delete sees its row.
            return _replace(values, key)


def listen(listener: Callable[[datetime.datetime], None]) -> None:
    """Tell ``listener`` the due time of each job this process schedules, once it has committed."""
    _listeners.append(listener)


def unlisten(listener: Callable[[datetime.datetime], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _tell(run_after: datetime.datetime) -> None:
    for listener in list(_listeners):
        listener(run_after)


def _kept_context(ctx: context.Context) -> context.Context:
    """What a job keeps of the context that scheduled it.

    NOTE: work done through a Keystone trust keeps no token: the job may run long after the
    token expired, and the engine gets a fresh one from the trust when it needs one.
    """
    return ctx.without_token() if ctx.trust_id else ctx


def _replace(values: dict[str, Any], key: str) -> str:
    db_api.delete_scheduled_jobs(key=key)
    return db_api.create_scheduled_job(values).id


def cancel(key: str) -> None:
    """Remove the job holding ``key``, if any, in the caller's transaction."""
    db_api.delete_scheduled_jobs(key=key)
