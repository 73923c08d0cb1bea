"""What an execution must look like after a trial; the rules are written out in tests/chaos/__init__.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.chaos.workflows import Kind

LOST, DUPLICATED, STUCK, WRONG, CRASHED = "lost", "duplicated", "stuck", "wrong", "crashed"
CATEGORIES = (LOST, DUPLICATED, STUCK, WRONG, CRASHED)
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")
#: What a task or action says when the engine failed it because its executor went silent.
KILL_EXPLANATIONS = ("Heartbeat lost", "stopped responding")


@dataclass
class Problem:
    category: str
    execution_id: str | None
    workflow: str
    detail: str
    #: ids worth grepping the logs for (the execution, its action executions)
    ids: tuple[str, ...] = ()
    task: str | None = None

    def __str__(self) -> str:
        return f"{self.category:10} {self.workflow:13} {self.execution_id or '-':36}  {self.detail}"


@dataclass
class Observed:
    """One root execution as the API and the database tell it after the trial."""

    kind: Kind
    key: str
    execution_id: str | None
    state: str | None
    state_info: str | None
    output: Any
    #: state_info of every ERROR task and action of the execution and its sub-workflows
    error_infos: list[str]
    #: task name ("child/leaf" for a sub-workflow's task) -> its action execution ids
    actions: dict[str, list[str]]


def check(seen: Observed, counts: dict[str, int], executor_kills: int) -> list[Problem]:
    """Every problem of one execution (none when it is right)."""
    kind, ex_id = seen.kind, seen.execution_id
    wf = kind.workflow.removeprefix("chaos_")

    def problem(category: str, detail: str, task: str | None = None) -> Problem:
        ids = tuple(x for x in (ex_id, *(seen.actions.get(task or "", []))) if x)
        return Problem(category, ex_id, wf, detail, ids, task)

    if ex_id is None:
        return [problem(LOST, f"execution of key {seen.key} is missing")]
    if seen.state not in TERMINAL:
        return [problem(STUCK, f"still {seen.state} ({seen.state_info or 'no state_info'})")]
    found: list[Problem] = []
    for key in kind.keys:
        full = f"{seen.key}-{key.suffix}"
        hits, allowed = counts.get(full, 0), _allowed(key, executor_kills)
        if hits > allowed:
            why = f"key {full} (task {key.task}, safe-rerun={key.safe_rerun}) hit {hits}x, allowed {allowed}"
            found.append(problem(DUPLICATED, why, key.task))
        elif seen.state == "SUCCESS" and hits < key.hits:
            found.append(
                problem(LOST, f"key {full} (task {key.task}) hit {hits}x, expected {key.hits}", key.task)
            )
    if seen.state == "SUCCESS":
        expected = kind.output(seen.key, lambda k: counts.get(k, 0))
        if seen.output != expected:
            found.append(problem(WRONG, f"output {json.dumps(seen.output)} != {json.dumps(expected)}"))
    elif not explained(seen, executor_kills):
        infos = "; ".join(dict.fromkeys(i[:160] for i in seen.error_infos)) or "no task says why"
        failed_safe = _failed_safe_rerun(seen)
        hint = f"safe-rerun task(s) {', '.join(failed_safe)} failed instead of rerun; " if failed_safe else ""
        found.append(problem(WRONG, f"{hint}{seen.state}: {(seen.state_info or '')[:200]} [tasks: {infos}]"))
    return found


def _allowed(key: Any, executor_kills: int) -> int:
    """Most hits a key may have: one more per executor kill where a rerun or a retry may repeat it."""
    if key.safe_rerun or key.retried:
        return key.hits + executor_kills
    return key.hits


def explained(seen: Observed, executor_kills: int) -> bool:
    """An ERROR is right only when an executor died and a task without safe-rerun lost its action.

    A ``safe-rerun: true`` task whose executor went silent must be run again, not failed.
    """
    if seen.state != "ERROR" or not executor_kills:
        return False
    unsafe = {key.task for key in seen.kind.keys if not key.safe_rerun}
    lost_unsafe = any(task in unsafe and _says_silent(text) for task, text in _task_errors(seen))
    return lost_unsafe and not _failed_safe_rerun(seen)


def _failed_safe_rerun(seen: Observed) -> list[str]:
    """Safe-rerun tasks the engine failed on a lost heartbeat (it should have rerun them)."""
    safe = {key.task for key in seen.kind.keys if key.safe_rerun}
    return sorted({task for task, text in _task_errors(seen) if task in safe and _says_silent(text)})


def _task_errors(seen: Observed) -> list[tuple[str, str]]:
    """(task, state_info) of every ERROR task and action; ``error_infos`` holds them as "task: info"."""
    pairs = (info.partition(": ") for info in seen.error_infos)
    return [(task, text) for task, _, text in pairs]


def _says_silent(text: str) -> bool:
    return any(marker in text for marker in KILL_EXPLANATIONS)
