"""Building WorkflowSpec and ActionSpec, and the workflow-wide (graph) checks."""

from __future__ import annotations

import re
from typing import Any

from mistral.lang import inline, schema, tag_deps
from mistral.lang.problems import Problems
from mistral.lang.specs import ActionSpec, OnClause, TaskSpec, WorkflowSpec
from mistral.lang.tasks import ON_KEYS, Scope, build_task, build_task_defaults
from mistral.lang.yaml_loader import Path
from mistral.utils.inputs import Param, format_spec, format_workflow_spec, spec_from_dsl

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def build_input(entries: Any, path: Path, problems: Problems) -> tuple[list[Any], list[Param]]:
    """The raw ``input`` entries and their params; malformed entries are reported and left out."""
    if not isinstance(entries, list):
        return [], []
    good, seen = [], set()
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and len(entry) == 1:
            name = str(next(iter(entry)))
        elif isinstance(entry, str):
            name = entry
        else:
            continue  # the schema names the wrong shape
        if name in seen:
            problems.add(path + (i,), f"duplicate input '{name}'")
            continue
        seen.add(name)
        good.append(entry)
    return entries, spec_from_dsl(good)


def _mapping(data: dict[str, Any], key: str) -> dict[Any, Any]:
    """``data[key]`` when it is a mapping (the schema reports any other shape), else an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def check_name(name: str, path: Path, problems: Problems) -> None:
    if _UUID_RE.match(name):
        problems.add(path, f"name {name!r} must not look like a UUID")


def _clauses(task: Any) -> list[tuple[str, OnClause]]:
    return [(key, getattr(task, key.replace("-", "_"))) for key in ON_KEYS]


def effective_targets(wf: WorkflowSpec, task: TaskSpec) -> set[str]:
    """Task names ``task`` may transition to, task-defaults included (without self-references)."""
    targets: set[str] = set()
    for key, clause in _clauses(task):
        default = getattr(wf.task_defaults, key.replace("-", "_"))
        if clause is None and default is not None:
            targets.update(t.name for t in default.next if not t.is_command and t.name != task.name)
        elif clause is not None:
            targets.update(t.name for t in clause.next if not t.is_command)
    return targets & set(wf.tasks)


def check_direct_graph(wf: WorkflowSpec, path: Path, problems: Problems) -> None:
    """At least one start task, each join count within its number of inbound tasks, and no join by
    tags waiting for a task that only comes after it."""
    inbound: dict[str, set[str]] = {name: set() for name in wf.tasks}
    outbound: dict[str, set[str]] = {name: set() for name in wf.tasks}
    for task in wf.tasks.values():
        for target in effective_targets(wf, task):
            inbound[target].add(task.name)
            outbound[task.name].add(target)
    for task in wf.tasks.values():
        for source in tag_deps.join_sources(wf, task):
            inbound[task.name].add(source)
            outbound[source].add(task.name)
    for task in wf.tasks.values():
        _check_join_order(task, tag_deps.join_sources(wf, task), outbound, path, problems)
    if wf.tasks and all(inbound.values()):
        problems.add(path + ("tasks",), "no start task: every task has an inbound transition")
    for name, task in wf.tasks.items():
        if isinstance(task.join, int) and task.join > len(inbound[name]):
            problems.add(
                path + ("tasks", name, "join"),
                f"join {task.join} is greater than the number of inbound tasks ({len(inbound[name])})",
            )


def _check_join_order(
    task: TaskSpec, sources: list[str], outbound: dict[str, set[str]], path: Path, problems: Problems
) -> None:
    # NOTE: a tagged task reached from the join itself could only run after the join, which waits
    # for it: the join would never start on that path. Explicit loops through a join stay allowed.
    for source in sources:
        chain = tag_deps.path_between(outbound, task.name, source)
        if chain:
            problems.add(
                path + ("tasks", task.name, "join"),
                f"task '{source}' carries the tags {task.join_tags} but comes after '{task.name}' "
                f"({' -> '.join(chain)}): the join would wait for its own successor",
            )


def check_reverse_cycles(wf: WorkflowSpec, path: Path, problems: Problems) -> None:
    """A ``requires: {tags: [...]}`` that closes a cycle of requirements (which could never start)."""
    edges = {name: _all_requires(wf, task) for name, task in wf.tasks.items()}
    carried = {name: frozenset(task.tags) for name, task in wf.tasks.items()}
    for name, task in wf.tasks.items():
        selectors: list[tuple[Path, list[str]]] = [(("tasks", name), tags) for tags in task.requires_tags]
        selectors += [(("task-defaults",), tags) for tags in wf.task_defaults.requires_tags]
        for where, tags in selectors:
            for needed in tag_deps.tasks_with_tags(carried, tags, but=name):
                chain = tag_deps.path_between(edges, needed, name)
                if chain:
                    problems.add(
                        path + where + ("requires",),
                        f"requiring the tags {tags} makes a cycle: {' -> '.join([name, *chain])}",
                    )


def _all_requires(wf: WorkflowSpec, task: TaskSpec) -> list[str]:
    return [*task.requires, *(r for r in wf.task_defaults.requires if r != task.name)]


def build_workflow(
    short_name: str, data: dict[str, Any], path: Path, problems: Problems, workbook: str | None = None
) -> WorkflowSpec:
    if problems.validate:
        problems.add_all(path, schema.check(data, schema.WORKFLOW))
        # tasks and task-defaults are checked by their own builders.
        problems.check_expressions(
            {k: v for k, v in data.items() if k not in ("tasks", "task-defaults")}, path
        )
        check_name(short_name, path, problems)
    wf_type = "reverse" if data.get("type") == "reverse" else "direct"
    tasks_data = _mapping(data, "tasks")
    scope = Scope(
        wf_type=wf_type,
        task_names=frozenset(str(k) for k in tasks_data),
        task_tags=tag_deps.carried_tags(tasks_data),
    )
    tasks = {
        str(name): build_task(str(name), task, path + ("tasks", name), problems, scope)
        for name, task in tasks_data.items()
    }
    raw_input, params = build_input(data.get("input"), path + ("input",), problems)
    output = data.get("output")
    wf = WorkflowSpec(
        name=f"{workbook}.{short_name}" if workbook else short_name,
        short_name=short_name,
        workbook_name=workbook,
        type=wf_type,
        description=data.get("description"),
        tags=list(data.get("tags") or []) if isinstance(data.get("tags"), list) else [],
        input=params,
        input_string=format_workflow_spec(params),
        interface={"input": raw_input, "output": list(output) if isinstance(output, dict) else []},
        output=output,
        output_on_error=data.get("output-on-error"),
        vars=_mapping(data, "vars"),
        task_defaults=build_task_defaults(
            data.get("task-defaults"), path + ("task-defaults",), problems, scope
        ),
        tasks=tasks,
        raw=data,
    )
    if problems.validate and wf_type == "direct":
        check_direct_graph(wf, path, problems)
    if problems.validate and wf_type == "reverse":
        check_reverse_cycles(wf, path, problems)
    return wf


def build_action(
    short_name: str, data: dict[str, Any], path: Path, problems: Problems, workbook: str | None = None
) -> ActionSpec:
    if problems.validate:
        problems.add_all(path, schema.check(data, schema.ACTION))
        problems.check_expressions(data, path)
    base = str(data.get("base") or "")
    base_params: dict[str, Any] = {}
    if isinstance(data.get("base"), str):
        try:
            base, base_params = inline.parse_command(data["base"])
        except inline.InlineSyntaxError as exc:
            problems.add(path + ("base",), f"invalid inline parameters: {exc}")
    base_input = _mapping(data, "base-input")
    raw_input, params = build_input(data.get("input"), path + ("input",), problems)
    return ActionSpec(
        name=f"{workbook}.{short_name}" if workbook else short_name,
        short_name=short_name,
        workbook_name=workbook,
        base=base,
        base_params=base_params,
        base_input={**base_input, **base_params},
        input=params,
        input_string=format_spec(params),
        output=data.get("output"),
        description=data.get("description"),
        tags=list(data.get("tags") or []) if isinstance(data.get("tags"), list) else [],
        raw=data,
    )
