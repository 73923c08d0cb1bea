"""Running a dynamic action: a class of an uploaded code source, in a child process with limits.

The engine puts what to run in the action request (``ActionRequest.dynamic``: the
code source's name, text and version and the class name); the executor hands it
here. The code is imported and run by ``mistral.actions.dynamic_runner`` in a child
process with ``[dynamic_actions] max_memory_mb`` of address space, killed after
``[dynamic_actions] timeout`` seconds (or the task's shorter timeout), so neither
a runaway class nor a crash reaches the executor. The input and the result cross
as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from mistral.actions import child_process
from mistral.config import CONF

LOG = logging.getLogger(__name__)

#: The environment variables the child keeps: none of the service's credentials or settings.
_KEPT_ENV = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "TZ")

_STAGES = {
    "import": "failed to import",
    "class": "cannot be used",
    "input": "got invalid input",
    "run": "raised",
    "result": "failed",
}


class DynamicActionError(Exception):
    """The child could not give an answer; the message says why."""


def time_limit(task_timeout: float | None) -> float:
    """The configured limit, or the task's timeout when that is shorter."""
    limit = CONF.dynamic_actions.timeout
    return min(limit, float(task_timeout)) if task_timeout else limit


def run(
    dynamic: Mapping[str, Any],
    action_input: Mapping[str, Any],
    security: Mapping[str, Any],
    execution: Mapping[str, Any],
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """``{"data": ...}``, ``{"cancel": True}`` or ``{"error": ...}`` naming what went wrong; never raises."""
    name = str(dynamic.get("name") or dynamic.get("class_name"))
    if dynamic.get("content") is None:
        return {
            "error": f"Dynamic action {name}: its code source '{dynamic.get('code_source')}' no longer exists"
        }
    limit = time_limit(timeout)
    request = {
        "code_source": dynamic["code_source"],
        "class_name": dynamic["class_name"],
        "content": dynamic["content"],
        "input": dict(action_input),
        "security": dict(security),
        "execution": dict(execution),
        "timeout": limit,
        "max_memory": CONF.dynamic_actions.max_memory_mb * 1024 * 1024,
    }
    try:
        answer = _run_child(name, json.dumps(request, default=str), limit)
    except DynamicActionError as exc:
        return {"error": str(exc)}
    if "error" in answer:
        return {"error": _describe(name, dynamic, {**answer, "timeout": limit})}
    return answer


def _run_child(name: str, request: str, limit: float) -> dict[str, Any]:
    env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
    try:
        answer, done = child_process.run("mistral.actions.dynamic_runner", request, limit, env=env)
    except subprocess.TimeoutExpired as exc:
        raise DynamicActionError(
            f"Dynamic action {name} timed out: it ran longer than {limit:g} s and was stopped"
        ) from exc
    if answer is not None:
        return answer
    cause = child_process.exit_cause(done.returncode)
    LOG.warning("The child running dynamic action %s ended with %s: %s", name, cause, done.stderr[-2000:])
    if done.returncode == -signal.SIGXCPU:
        raise DynamicActionError(f"Dynamic action {name} timed out: it used more than {limit:g} s of CPU")
    # A signal is most often the memory limit hit outside Python's reach (in a C extension).
    hint = (
        f" ([dynamic_actions] max_memory_mb = {CONF.dynamic_actions.max_memory_mb})"
        if done.returncode < 0
        else ""
    )
    raise DynamicActionError(
        f"Dynamic action {name} failed: its process ended with {cause}{hint} without an answer; "
        f"last output: {done.stderr[-500:].strip()}"
    )


def _describe(name: str, dynamic: Mapping[str, Any], answer: Mapping[str, Any]) -> Any:
    """The error text; a ``Result(error=...)`` the action returned keeps its own data."""
    where = f"class {dynamic['class_name']} of code source {dynamic['code_source']}"
    if answer.get("limit") == "memory":
        return (
            f"Dynamic action {name} ({where}) ran out of memory: it may use "
            f"[dynamic_actions] max_memory_mb = {CONF.dynamic_actions.max_memory_mb} MiB"
        )
    if answer.get("limit") == "timeout":
        limit = answer["timeout"]
        return f"Dynamic action {name} ({where}) timed out: it ran longer than {limit:g} s and was stopped"
    error = answer["error"]
    if answer.get("stage") == "result" and not isinstance(error, str):
        return error
    verb = _STAGES.get(answer.get("stage", ""), "failed")
    return f"Dynamic action {name} ({where}) {verb}: {error}"
