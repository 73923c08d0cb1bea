"""std.javascript (std.js): evaluate a JavaScript snippet with V8 through py_mini_racer.

Each script runs in a child process with V8's heap limit ([action_javascript]
max_memory_mb) and time limit ([action_javascript] timeout); the parent kills
a child that outlives the time limit, so neither a runaway script nor a V8
crash reaches the executor.
"""

from __future__ import annotations

import json
import logging
import subprocess
from typing import Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.actions import child_process
from mistral.config import CONF

LOG = logging.getLogger(__name__)


class JavaScriptAction(actions.Action):
    """Evaluate a JavaScript function body with $ bound to the given context."""

    def __init__(self, script: str, context: Any = None) -> None:
        self.script = script
        self.context = context

    def run(self, context: ActionContext) -> Any:
        try:
            CONF.js_implementation  # noqa: B018 - reading validates: only py_mini_racer runs here
        except ValueError as exc:
            raise ActionException(f"std.javascript can't run: {exc}") from exc
        try:
            import py_mini_racer  # noqa: F401 - only whether the child will find it
        except ImportError as exc:
            raise ActionException(
                "std.javascript needs the py_mini_racer module (pip install mini-racer), "
                f"which is not importable here: {exc}"
            ) from exc
        limits = CONF.action_javascript
        request = {
            "script": self.script,
            "context": self.context,
            "timeout": limits.timeout,
            "max_memory": limits.max_memory_mb * 1024 * 1024,
        }
        answer = _run_child(json.dumps(request, default=str), limits.timeout)
        if "error" in answer:
            raise ActionException(_describe_error(answer))
        return answer["result"]


def _run_child(request: str, timeout: float) -> dict[str, Any]:
    try:
        answer, done = child_process.run("mistral.actions.js_runner", request, timeout)
    except subprocess.TimeoutExpired as exc:
        raise ActionException(
            f"JavaScript stopped: it ran longer than the [action_javascript] timeout of {timeout} s"
        ) from exc
    if answer is not None:
        return answer
    cause = child_process.exit_cause(done.returncode)
    LOG.warning("The JavaScript child process ended with %s: %s", cause, done.stderr[-2000:])
    raise ActionException(
        f"JavaScript failed: the V8 process ended with {cause}, most likely out of memory "
        f"([action_javascript] max_memory_mb = {CONF.action_javascript.max_memory_mb})"
    )


def _describe_error(answer: dict[str, Any]) -> str:
    limits = CONF.action_javascript
    if answer.get("limit") == "timeout":
        return f"JavaScript stopped: it ran longer than the [action_javascript] timeout of {limits.timeout} s"
    if answer.get("limit") == "memory":
        return (
            "JavaScript stopped: it used more than the [action_javascript] max_memory_mb of "
            f"{limits.max_memory_mb} MiB"
        )
    return f"JavaScript failed: {answer['error']}"
