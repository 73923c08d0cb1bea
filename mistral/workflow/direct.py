"""Direct workflows: which tasks start, and what follows a finished task.

Pure functions of the spec and the finished task's state; conditions are
evaluated through the callable the engine passes in, so nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mistral.lang import tag_deps
from mistral.lang.specs import OnClause, TaskSpec, Transition, WorkflowSpec
from mistral.workflow import states
from mistral.workflow.commands import Decision, EngineCommand, MissedJoin, RunTask

Condition = Callable[[Any], bool]

_CLAUSES_BY_STATE = {
    states.SUCCESS: ("on_success", "on_complete"),
    states.ERROR: ("on_error", "on_complete"),
    states.SKIPPED: ("on_skip",),
}


def clause(wf: WorkflowSpec, task: TaskSpec, keyword: str) -> OnClause | None:
    """The task's own on-* clause, else task-defaults' (without transitions back to itself)."""
    own: OnClause | None = getattr(task, keyword)
    if own is not None:
        return own
    default: OnClause | None = getattr(wf.task_defaults, keyword)
    if default is None:
        return None
    return OnClause(next=[t for t in default.next if t.name != task.name], publish=default.publish)


def start_tasks(wf: WorkflowSpec) -> list[str]:
    """Tasks nothing leads to: where a direct workflow begins."""
    inbound = inbound_tasks(wf)
    return [name for name in wf.tasks if not inbound.get(name)]


def inbound_tasks(wf: WorkflowSpec) -> dict[str, list[str]]:
    """For each task, the tasks with a transition to it (computed once per spec, kept on it)."""
    inbound: dict[str, list[str]] | None = wf.derived.get("inbound")
    if inbound is None:
        inbound = wf.derived.setdefault("inbound", _inbound(wf))
    return inbound


def _inbound(wf: WorkflowSpec) -> dict[str, list[str]]:
    inbound: dict[str, list[str]] = {name: [] for name in wf.tasks}
    for task in wf.tasks.values():
        for keyword in ("on_success", "on_error", "on_complete", "on_skip"):
            on = clause(wf, task, keyword)
            for t in on.next if on else ():
                if not t.is_command and t.name in inbound and task.name not in inbound[t.name]:
                    inbound[t.name].append(task.name)
    for name, task in wf.tasks.items():
        inbound[name] += [s for s in tag_deps.join_sources(wf, task) if s not in inbound[name]]
    return inbound


def tag_join_targets(wf: WorkflowSpec) -> dict[str, list[str]]:
    """For each task, the ``join: {tags: [...]}`` tasks its success leads to without a transition.

    NOTE: ``join: {tags: [a, b]}`` reads as ``join: all`` where every task carrying both tags has
    an implicit ``on-success`` transition to the join: it arrives when it succeeds and is a missed
    branch when it fails or is skipped, like a written transition that did not fire.
    """
    targets: dict[str, list[str]] | None = wf.derived.get("tag_joins")
    if targets is None:
        computed: dict[str, list[str]] = {name: [] for name in wf.tasks}
        for name, task in wf.tasks.items():
            for source in tag_deps.join_sources(wf, task):
                computed[source].append(name)
        targets = wf.derived.setdefault("tag_joins", computed)
    return targets


def joins_fed_by(wf: WorkflowSpec) -> dict[str, list[str]]:
    """For each task, the joins it is an inbound branch of, in ``inbound_tasks`` order (kept on the spec).

    NOTE: every finished task asks which joins it reaches or misses; looking through every task's
    inbound list instead cost each decision of a fan-out of N tasks into one join N comparisons.
    """
    fed: dict[str, list[str]] | None = wf.derived.get("joins_fed_by")
    if fed is None:
        computed: dict[str, list[str]] = {}
        for target, sources in inbound_tasks(wf).items():
            if wf.tasks[target].join is not None:
                for source in sources:
                    computed.setdefault(source, []).append(target)
        fed = wf.derived.setdefault("joins_fed_by", computed)
    return fed


def downstream(wf: WorkflowSpec, name: str) -> set[str]:
    """Every task reachable from ``name`` by transitions of any kind (``name`` too, if a loop leads back)."""
    outbound: dict[str, list[str]] = {}
    for target, sources in inbound_tasks(wf).items():
        for source in sources:
            outbound.setdefault(source, []).append(target)
    found: set[str] = set()
    stack = list(outbound.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(outbound.get(current, ()))
    return found


def join_requirement(wf: WorkflowSpec, task: TaskSpec) -> int:
    """How many inbound branches a join task waits for (0: not a join)."""
    if task.join is None:
        return 0
    inbound = len(inbound_tasks(wf)[task.name])
    if task.join == "all":
        return inbound
    if task.join == "one":
        return 1
    return min(int(task.join), inbound)


def _fires(transition: Transition, condition: Condition) -> bool:
    return transition.condition is None or bool(condition(transition.condition))


def decide(wf: WorkflowSpec, task_name: str, state: str, task_ex_id: str, condition: Condition) -> Decision:
    """The commands that follow ``task_name`` finishing in ``state``."""
    task = wf.tasks[task_name]
    decision = Decision()
    led_to: set[str] = set()
    for keyword in _CLAUSES_BY_STATE.get(state, ()):
        on = clause(wf, task, keyword)
        if on is None:
            continue
        fired = [t for t in on.next if _fires(t, condition)]
        if keyword == "on_error" and fired:
            decision.error_handled = True
        if on.publish is not None and (fired or not on.next):
            decision.publish.setdefault("branch", {}).update(on.publish.branch)
            decision.publish.setdefault("global", {}).update(on.publish.global_)
        for t in fired:
            if t.is_command:
                decision.commands.append(EngineCommand(t.name, t.params.get("msg")))
            else:
                decision.commands.append(RunTask(t.name, task_ex_id))
                led_to.add(t.name)
    if state == states.SUCCESS:
        for target in tag_join_targets(wf).get(task_name, ()):
            if target not in led_to:
                decision.commands.append(RunTask(target, task_ex_id))
                led_to.add(target)
    for target in joins_fed_by(wf).get(task_name, ()):
        if target not in led_to:
            decision.missed_joins.append(MissedJoin(target, task_name))
    return decision
