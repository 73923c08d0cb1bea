"""Reverse workflows: run what the target task requires, dependencies first."""

from __future__ import annotations

from mistral.exceptions import InputError
from mistral.lang.specs import TaskSpec, WorkflowSpec


def requires(wf: WorkflowSpec, task: TaskSpec) -> list[str]:
    """The task's own ``requires`` plus task-defaults' (without itself)."""
    names = list(task.requires)
    names += [r for r in wf.task_defaults.requires if r != task.name and r not in names]
    return names


def needed_tasks(wf: WorkflowSpec, target: str | None) -> list[str]:
    """Every task the target depends on, transitively, the target included."""
    if not target:
        raise InputError(f"Reverse workflow {wf.name} needs 'task_name' in the execution params")
    if target not in wf.tasks:
        raise InputError(f"Task '{target}' not found in workflow {wf.name}")
    seen: list[str] = []
    stack = [target]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.append(name)
        stack.extend(requires(wf, wf.tasks[name]))
    return seen


def ready_tasks(wf: WorkflowSpec, needed: list[str], succeeded: set[str], started: set[str]) -> list[str]:
    """Needed tasks not yet started whose requirements all succeeded."""
    return [
        name
        for name in needed
        if name not in started and all(r in succeeded for r in requires(wf, wf.tasks[name]))
    ]


def dependents(wf: WorkflowSpec, name: str, needed: list[str]) -> set[str]:
    """The ``needed`` tasks that require ``name``, directly or through others."""
    found: set[str] = set()
    grew = True
    while grew:
        grew = False
        for task in needed:
            if task not in found and any(r == name or r in found for r in requires(wf, wf.tasks[task])):
                found.add(task)
                grew = True
    return found
