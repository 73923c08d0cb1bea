"""The child process that evaluates one std.javascript script: JSON request on stdin, JSON answer on stdout.

NOTE: V8 ends the whole process on some allocations it cannot satisfy (a
fatal out-of-memory in a builtin such as ``new Array(3e8).fill(1)``) whatever
heap limit was set, so scripts run here, never in the executor's process.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def evaluate(request: dict[str, Any]) -> dict[str, Any]:
    """``{"result": value}``, or ``{"error": text, "limit": "timeout" | "memory" | None}``."""
    from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer

    # The result crosses the boundary as JSON so that JS objects and arrays
    # come back as plain dicts and lists.
    source = (
        f"var $ = {json.dumps(request['context'], default=str)};\n"
        f"function f() {{\n{request['script']}\n}}\n"
        "JSON.stringify(f())"
    )
    # NOTE: the context is never closed: closing waits for V8 to stop, which a script stuck in a
    # builtin does not do; the process ends right after the answer instead.
    racer = MiniRacer()
    try:
        result = racer.eval(source, timeout_sec=request["timeout"], max_memory=request["max_memory"])
    except JSTimeoutException as exc:
        return {"error": str(exc), "limit": "timeout"}
    except JSOOMException as exc:
        return {"error": str(exc), "limit": "memory"}
    except JSEvalException as exc:
        return {"error": str(exc), "limit": None}
    # JSON.stringify(undefined) is undefined: a script that returns nothing.
    return {"result": json.loads(result) if isinstance(result, str) else None}


def main() -> None:
    answer = evaluate(json.load(sys.stdin))
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
