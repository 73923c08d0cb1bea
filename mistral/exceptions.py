"""The one exception hierarchy of the service.

Exceptions carry structured attributes and know nothing of HTTP;
``mistral.api.errors`` maps them to status codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


class MistralError(Exception):
    """Root of every error the service raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class WorkOutsideTransaction(BaseException):  # noqa: N818 - a request to the retry layer, not an error
    """Work that must not run while the transaction holds its locks (a slow expression).

    Raised inside a transaction, it rolls that transaction back; the outermost
    retry layer (``mistral.db.retry.run_with_retry``, the scheduler) then calls
    ``work()`` with no transaction open and runs the whole unit again, which
    finds the work's outcome ready. A BaseException, so that handlers on the way
    (``except Exception`` turning errors into failed tasks) let it through.
    """

    def __init__(self, reason: str, work: Callable[[], None]) -> None:
        super().__init__(reason)
        self.reason, self.work = reason, work


class ServiceStopping(BaseException):  # noqa: N818 - not an error of the work it cut short
    """The service is stopping and cut this work short (a running expression).

    A BaseException, so that nothing on the way turns it into a failed task:
    the transaction around it rolls back, and the work is done again later
    (the message is not removed, the scheduled job is taken over, the caller
    is told to send its request again).
    """


class NotFoundError(MistralError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} not found [{key}]")
        self.kind, self.key = kind, key


class DuplicateError(MistralError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"Duplicate entry for {kind}: {key}")
        self.kind, self.key = kind, key


class ConflictError(MistralError):
    """The request no longer fits what it acts on (a result for a work item another worker now holds)."""


@dataclass(frozen=True)
class SpecProblem:
    """One validation problem: where in the document, and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidSpecError(MistralError):
    """A DSL document is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[SpecProblem | str]) -> None:
        self.problems = [p if isinstance(p, SpecProblem) else SpecProblem("", p) for p in problems]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid DSL: {len(self.problems)} problem(s):\n{lines}")


class InputError(MistralError):
    """A request carried a wrong, missing or unexpected value."""


class InvalidActionError(InputError):
    """An action input does not fit the action's parameters."""


class ActionLoadError(MistralError):
    """An action plugin could not be loaded."""

    def __init__(self, entry_point: str, reason: str) -> None:
        super().__init__(f"Failed to load action '{entry_point}': {reason}")
        self.entry_point, self.reason = entry_point, reason


class NotAllowedError(MistralError):
    """The operation is understood but forbidden in the current state (403)."""


class UnauthorizedError(MistralError):
    """The caller could not be authenticated (401)."""


class PolicyError(MistralError):
    """The policy forbids the caller this operation (403)."""


class InvalidStateTransition(MistralError):
    def __init__(self, kind: str, old: str, new: str) -> None:
        super().__init__(f"Can't change {kind} state from {old} to {new}")
        self.kind, self.old, self.new = kind, old, new


class ExpressionError(MistralError):
    """An expression is malformed or failed to evaluate."""


class EngineError(MistralError):
    """The engine failed while handling a request (a bug or a broken dependency)."""


class ServiceUnavailable(MistralError):
    """The service is stopping: nothing of the request was applied, so it may be sent again (503)."""


def error_class(name: str) -> type[MistralError]:
    """The MistralError subclass called ``name`` (errors cross RPC by name and message)."""
    found = _subclasses(MistralError).get(name)
    return found or MistralError


def rebuild(name: str, message: str) -> MistralError:
    """An error of class ``name`` carrying ``message``, without running its constructor."""
    cls = error_class(name)
    error = cls.__new__(cls)
    MistralError.__init__(error, message)
    return error


def _subclasses(cls: type[MistralError]) -> dict[str, type[MistralError]]:
    found = {cls.__name__: cls}
    for sub in cls.__subclasses__():
        found.update(_subclasses(sub))
    return found
