"""The way back for an asynchronous action that learns its own outcome later (std.amqp_wait).

Such an action returns from ``run()`` at once (it is not synchronous) and finishes in a thread of
its own. The executor that runs it installs a completer here when it starts; the action's thread
calls ``complete`` with its outcome, which travels as every other result does and returns only once
an engine has committed it (architecture rule 7), so the action may then acknowledge what it read.

An action that ``hold``s its id stays its executor's until then: the executor goes on reporting it
in its heartbeats instead of telling the engine it awaits a callback, so if this process dies the
engine's heartbeat check finds the action lost (and re-runs it where the task says ``safe-rerun``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

#: ``completer(action_ex_id, outcome, workflow_execution_id)``; ``outcome`` is ``{"data": ...}`` or
#: ``{"error": ...}``. Raises when no engine confirmed the result.
Completer = Callable[[str, dict[str, Any], str | None], None]

_lock = threading.Lock()
_completers: list[Completer] = []
_held: set[str] = set()
#: held ids whose action an engine cancelled: their waits end without a result
_abandoned: set[str] = set()


class NoCompleterError(RuntimeError):
    """No executor runs in this process to carry the result."""


def install(completer: Completer) -> None:
    with _lock:
        _completers.append(completer)


def uninstall(completer: Completer) -> None:
    with _lock:
        if completer in _completers:
            _completers.remove(completer)


def hold(action_ex_id: str) -> None:
    """``action_ex_id`` finishes in this process: heartbeat it until ``complete`` carried its result."""
    with _lock:
        _held.add(action_ex_id)


def release(action_ex_id: str) -> None:
    """Stop heartbeating ``action_ex_id`` (its result went, or it was given up)."""
    with _lock:
        _held.discard(action_ex_id)
        _abandoned.discard(action_ex_id)


def abandon(action_ex_ids: Iterable[str]) -> None:
    """An engine cancelled these actions: the ones held here stop waiting (see ``abandoned``)."""
    with _lock:
        # NOTE: only held ids are kept: a message about actions of another executor, or one that
        # came after the wait ended, leaves nothing behind.
        _abandoned.update(i for i in action_ex_ids if i in _held)


def abandoned(action_ex_id: str) -> bool:
    with _lock:
        return action_ex_id in _abandoned


def held_ids() -> set[str]:
    with _lock:
        return set(_held)


def complete(action_ex_id: str, outcome: dict[str, Any], workflow_execution_id: str | None = None) -> None:
    """Send the outcome of ``action_ex_id`` through the executor started last in this process."""
    with _lock:
        completer = _completers[-1] if _completers else None
    if completer is None:
        raise NoCompleterError(f"no executor in this process can report action {action_ex_id}")
    completer(action_ex_id, outcome, workflow_execution_id)
    release(action_ex_id)
