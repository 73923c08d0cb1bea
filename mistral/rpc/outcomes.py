"""What an RPC call answers: the handler's result, or its error as data (never a pickle).

On the wire an outcome is ``{"result": value}`` or ``{"error": {"type": class
name, "message": text}}``, as it has always been; the caller raises the error
again as the same ``MistralError`` class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral import exceptions

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallOutcome:
    result: Any = None
    #: The class name of the error the handler raised; None when it answered.
    error_type: str | None = None
    error_message: str = ""

    @classmethod
    def of_call(cls, func: Callable[..., Any], *args: Any, **kwargs: Any) -> CallOutcome:
        """Run a call's handler on the server side and catch what it raises."""
        try:
            return cls(result=func(*args, **kwargs))
        except exceptions.MistralError as error:
            return cls.failure(type(error).__name__, str(error))
        except exceptions.ServiceStopping as error:
            # NOTE: nothing was applied (the transaction rolled back): the caller may send it again.
            message = f"{error}; nothing was applied, try again"
            return cls.failure(exceptions.ServiceUnavailable.__name__, message)
        except Exception as error:
            LOG.exception("RPC handler %s failed", getattr(func, "__name__", func))
            return cls.failure(exceptions.EngineError.__name__, f"{type(error).__name__}: {error}")

    @classmethod
    def failure(cls, error_type: str, message: str) -> CallOutcome:
        return cls(error_type=error_type, error_message=message)

    def to_wire(self) -> dict[str, Any]:
        if self.error_type is None:
            return {"result": self.result}
        return {"error": {"type": self.error_type, "message": self.error_message}}

    @classmethod
    def from_wire(cls, answer: Any) -> CallOutcome:
        """Read an answer; anything not shaped as an outcome is taken as the result itself."""
        if not isinstance(answer, dict) or len(answer) != 1:
            return cls(result=answer)
        error = answer.get("error")
        if isinstance(error, dict) and "type" in error:
            return cls.failure(str(error["type"]), str(error.get("message", "")))
        return cls(result=answer.get("result", answer))

    def value(self) -> Any:
        """The result, or the error raised again: a class this side does not know becomes an EngineError
        that names it."""
        if self.error_type is None:
            return self.result
        if exceptions.error_class(self.error_type).__name__ != self.error_type:
            raise exceptions.EngineError(f"{self.error_type}: {self.error_message}")
        raise exceptions.rebuild(self.error_type, self.error_message)
