"""The child process that runs one dynamic action: JSON request on stdin, JSON answer on a saved stdout.

A dynamic action is a class in a code source, Python text uploaded through the
API. It is imported and run here, never in an API, engine or executor process:
this process has an address-space limit and a CPU-time limit of its own, and the
executor kills it when it outlives the action's time limit.

NOTE: this is a boundary against runaway code (a loop, a huge allocation, a crash,
output that is not JSON), not a sandbox: the code runs as the service's user.
Who may upload code is the policy's business (admin only by default).
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
import traceback
import types
from typing import Any

#: The answer goes to this file descriptor; fd 1 is pointed at stderr so a print() cannot corrupt it.
_answer_fd: int | None = None


class TimeLimit(BaseException):  # noqa: N818 - like KeyboardInterrupt: not for the code's except Exception
    """The action's time is up."""


def _time_up(signum: int, frame: Any) -> None:
    raise TimeLimit()


def _limit(max_memory: int, timeout: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    # A backstop for a parent that is gone: CPU seconds, so sleeping code is left to the parent.
    cpu = math.ceil(timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # NOTE: the timer stops Python code between two bytecodes, which ends the child with an answer;
    # code stuck inside one C call is killed by the parent a little later.
    signal.signal(signal.SIGALRM, _time_up)
    signal.setitimer(signal.ITIMER_REAL, timeout)


def _load(request: dict[str, Any]) -> type:
    """The class ``class_name`` of the code source; raises LookupError or whatever the import raises."""
    name = request["code_source"]
    module = types.ModuleType(name)
    module.__file__ = f"<code source {name}>"
    # Registered, so dataclasses, pickle and typing can find the module of the code's classes.
    sys.modules[name] = module
    exec(compile(request["content"], module.__file__, "exec"), module.__dict__)  # noqa: S102 - the point
    cls = getattr(module, request["class_name"], None)
    if not isinstance(cls, type):
        raise LookupError(f"code source '{name}' has no class '{request['class_name']}'")
    if not callable(getattr(cls, "run", None)):
        raise LookupError(f"class '{request['class_name']}' of code source '{name}' has no run() method")
    return cls


def _context(request: dict[str, Any]) -> Any:
    from mistral_lib.actions.context import ActionContext, ExecutionContext, SecurityContext

    return ActionContext(
        security_ctx=SecurityContext(**request.get("security", {})),
        execution_ctx=ExecutionContext(**request.get("execution", {})),
    )


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def run(request: dict[str, Any]) -> dict[str, Any]:
    """``{"data": ...}``, ``{"error": ..., "stage": ...}`` or ``{"cancel": True}``."""
    try:
        cls = _load(request)
    except MemoryError:
        return {"error": "MemoryError while importing", "stage": "import", "limit": "memory"}
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - whatever the import raises is the code's failure
        stage = "class" if isinstance(exc, LookupError) and not isinstance(exc, KeyError) else "import"
        return {"error": _describe(exc), "stage": stage, "traceback": traceback.format_exc(limit=-5)}
    try:
        action = cls(**request.get("input", {}))
    except TypeError as exc:
        return {"error": _describe(exc), "stage": "input"}
    except MemoryError:
        return {"error": "MemoryError", "stage": "run", "limit": "memory"}
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() too: the code's failure
        return {"error": _describe(exc), "stage": "run", "traceback": traceback.format_exc(limit=-5)}
    try:
        outcome = action.run(_context(request))
    except MemoryError:
        return {"error": "MemoryError", "stage": "run", "limit": "memory"}
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() too: the code's failure
        return {"error": _describe(exc), "stage": "run", "traceback": traceback.format_exc(limit=-5)}
    return _answer(outcome)


def _answer(outcome: Any) -> dict[str, Any]:
    from mistral_lib.actions import Result

    if isinstance(outcome, Result):
        if outcome.is_cancel():
            return {"cancel": True}
        if outcome.is_error():
            return {"error": outcome.error, "stage": "result"}
        outcome = outcome.data
    return {"data": outcome}


def _write(answer: dict[str, Any]) -> None:
    assert _answer_fd is not None
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError, RecursionError) as exc:
        text = json.dumps({"error": f"the result is not JSON-serializable: {exc}", "stage": "result"})
    with os.fdopen(_answer_fd, "w", encoding="utf-8") as out:
        out.write(text)


def main() -> None:
    global _answer_fd
    _answer_fd = os.dup(1)
    os.dup2(2, 1)
    request = json.load(sys.stdin)
    _limit(request["max_memory"], request["timeout"])
    try:
        answer = run(request)
    except MemoryError:
        answer = {"error": "MemoryError", "stage": "run", "limit": "memory"}
    except TimeLimit:
        answer = {"error": "time limit", "stage": "run", "limit": "timeout"}
    signal.setitimer(signal.ITIMER_REAL, 0)
    _write(answer)
    sys.stderr.flush()
    # NOTE: no interpreter shutdown: threads or atexit hooks the code left behind must not keep it alive.
    os._exit(0)


if __name__ == "__main__":
    main()
