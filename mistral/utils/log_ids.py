"""The execution and task a log line is about, as ``[exec=<id> task=<id>] `` in front of its message.

The engine and the executor say what they work on (``set_execution``, ``set_task``: one
context variable each, set and reset around the work); every log record then carries
``execution_ids`` (empty when neither is set), which the default log formats print before
the message (``[DEFAULT] logging_context_format_string``, ``logging_default_format_string``).

NOTE: the text is made only when a record is made: a log line that is filtered out by its
level costs nothing here, and the work itself costs two context variable writes.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

#: The record attribute the log formats name.
ATTRIBUTE = "execution_ids"

_execution: contextvars.ContextVar[str | None] = contextvars.ContextVar("mistral_log_execution", default=None)
_task: contextvars.ContextVar[str | None] = contextvars.ContextVar("mistral_log_task", default=None)

Token = contextvars.Token


def set_execution(wf_ex_id: str | None) -> Token[str | None]:
    """Lines from now on are about workflow execution ``wf_ex_id``; ``reset_execution`` ends it."""
    return _execution.set(wf_ex_id)


def reset_execution(token: Token[str | None]) -> None:
    _execution.reset(token)


def set_task(task_ex_id: str | None) -> Token[str | None]:
    """Lines from now on are about task execution ``task_ex_id``; ``reset_task`` ends it."""
    return _task.set(task_ex_id)


def reset_task(token: Token[str | None]) -> None:
    _task.reset(token)


class Scope:
    """``with Scope():`` whatever is set inside is undone at the end (an engine operation's ids
    do not outlive it in the thread that ran it)."""

    __slots__ = ("_tokens",)

    def __enter__(self) -> None:
        self._tokens = (_execution.set(_execution.get()), _task.set(_task.get()))

    def __exit__(self, *exc: object) -> None:
        execution, task = self._tokens
        _task.reset(task)
        _execution.reset(execution)


def current() -> str:
    """``[exec=<id> task=<id>] ``, ``[exec=<id>] `` or ``[task=<id>] ``; empty when neither is set."""
    wf_ex_id, task_ex_id = _execution.get(), _task.get()
    if wf_ex_id is None and task_ex_id is None:
        return ""
    parts = [f"exec={wf_ex_id}"] if wf_ex_id is not None else []
    if task_ex_id is not None:
        parts.append(f"task={task_ex_id}")
    return f"[{' '.join(parts)}] "


def install() -> None:
    """Give every log record of this process its ``execution_ids`` (once, however often called).

    NOTE: a record factory rather than a handler filter: oslo.log, a ``log_config_append`` file
    and the tests' capture each bring their own handlers, and a format naming the attribute must
    find it on every record.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_execution_ids", False):
        return
    logging.setLogRecordFactory(_with_ids(factory))


def _with_ids(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        setattr(record, ATTRIBUTE, current())
        return record

    make.adds_execution_ids = True  # type: ignore[attr-defined]
    return make
