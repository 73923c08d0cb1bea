"""Dependencies by task tags: ``requires: {tags: [...]}`` (reverse) and ``join: {tags: [...]}`` (direct).

A selector ``{tags: [a, b]}`` stands for every task of the workflow that carries all of ``a`` and ``b``
in its ``tags``, except the task holding the selector: a task never waits for itself. The set is
fixed when the workflow is parsed, so it is part of the (cached) spec like any other dependency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mistral.lang.problems import Problems
from mistral.lang.specs import TaskSpec, WorkflowSpec
from mistral.lang.yaml_loader import Path

TaskTags = Mapping[str, frozenset[str]]


def selector_tags(value: Any) -> list[str] | None:
    """The tags of a ``{tags: [...]}`` selector; None when ``value`` is no selector."""
    if isinstance(value, dict) and isinstance(value.get("tags"), list):
        return [str(tag) for tag in value["tags"] if isinstance(tag, str | int)]
    return None


def carried_tags(tasks_data: Mapping[Any, Any]) -> dict[str, frozenset[str]]:
    """Each task's tags, read from the raw task mappings (before the tasks are built)."""
    carried: dict[str, frozenset[str]] = {}
    for name, data in tasks_data.items():
        tags = data.get("tags") if isinstance(data, dict) else None
        items = tags if isinstance(tags, list) else []
        carried[str(name)] = frozenset(str(t) for t in items if isinstance(t, str | int))
    return carried


def tasks_with_tags(task_tags: TaskTags, tags: Sequence[str], *, but: str | None = None) -> list[str]:
    """The tasks carrying every one of ``tags`` (``but`` excepted), in definition order."""
    wanted = set(tags)
    return [name for name, carried in task_tags.items() if name != but and wanted <= carried]


def resolve(
    tags: Sequence[str], path: Path, problems: Problems, task_tags: TaskTags, *, owner: str | None
) -> list[str]:
    """The tasks a selector at ``path`` stands for; reports a tag no task carries, or no match."""
    if not tags:
        return []  # the schema reports an empty list
    everywhere = frozenset().union(*task_tags.values()) if task_tags else frozenset()
    unknown = [(i, tag) for i, tag in enumerate(tags) if tag not in everywhere]
    for i, tag in unknown:
        problems.add(path + ("tags", i), f"no task carries the tag '{tag}'")
    names = tasks_with_tags(task_tags, tags, but=owner)
    if not names and not unknown:
        other = f" other than '{owner}'" if owner else ""
        problems.add(path, f"no task{other} carries all of the tags {list(tags)}")
    return names


def join_sources(wf: WorkflowSpec, task: TaskSpec) -> list[str]:
    """The tasks a ``join: {tags: [...]}`` task waits for; none for any other task."""
    if not task.join_tags:
        return []
    carried = {name: frozenset(t.tags) for name, t in wf.tasks.items()}
    return tasks_with_tags(carried, task.join_tags, but=task.name)


def path_between(edges: Mapping[str, Iterable[str]], start: str, goal: str) -> list[str] | None:
    """The shortest chain of ``edges`` from ``start`` to ``goal`` (both included), or None."""
    parents: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            if node == goal:
                chain: list[str] = []
                at: str | None = node
                while at is not None:
                    chain.append(at)
                    at = parents[at]
                return chain[::-1]
            for nxt in edges.get(node, ()):
                if nxt not in parents:
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    return None
