"""Building TaskSpec and TaskDefaultsSpec from raw task mappings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from mistral.expressions import has_expression
from mistral.lang import inline, schema, tag_deps
from mistral.lang.problems import Problems
from mistral.lang.specs import (
    OnClause,
    PublishSpec,
    RetrySpec,
    TaskDefaultsSpec,
    TaskSpec,
    Transition,
    WithItem,
)
from mistral.lang.yaml_loader import Path

MAX_TASK_NAME = 255
MAX_JOIN_TASK_NAME = 208
ON_KEYS = ("on-success", "on-error", "on-complete", "on-skip")
_RETRY_KEYS = ("count", "delay", "break-on", "continue-on", "backoff", "max-delay", "jitter")


@dataclass(frozen=True)
class Scope:
    """What a task may refer to: its workflow's type, task names and the tags each task carries."""

    wf_type: str
    task_names: Collection[str]
    task_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int))]
    return []


def _transition(name: Any, condition: Any, path: Path, problems: Problems, scope: Scope) -> Transition | None:
    name = str(name).strip()
    if name in scope.task_names:
        # A task named like an engine command wins over the command.
        return Transition(name=name, condition=condition)
    try:
        command = inline.parse_engine_command(name)
    except inline.InlineSyntaxError as exc:
        problems.add(path, f"invalid engine command {name!r}: {exc}")
        return None
    if command:
        return Transition(name=command[0], condition=condition, is_command=True, params=command[1])
    problems.add(path, f"task '{name}' does not exist")
    return Transition(name=name, condition=condition)


def build_on_clause(value: Any, path: Path, problems: Problems, scope: Scope) -> OnClause | None:
    """Normalise any on-* form into an OnClause (None when the keyword is absent)."""
    if value is None:
        return None
    publish = None
    if isinstance(value, dict) and ("next" in value or "publish" in value):
        adv = _dict_or_none(value.get("publish")) or {}
        publish = PublishSpec(
            branch=_dict_or_none(adv.get("branch")) or {},
            global_=_dict_or_none(adv.get("global")) or {},
            atomic=_dict_or_none(adv.get("atomic")) or {},
        )
        value, path = value.get("next", []), path + ("next",)
    items = [(value, path)] if isinstance(value, str) else []
    if isinstance(value, list):
        items = [(item, path + (i,)) for i, item in enumerate(value)]
    transitions = []
    for item, item_path in items:
        if isinstance(item, str):
            transition = _transition(item, None, item_path, problems, scope)
        elif isinstance(item, dict) and len(item) == 1:
            ((name, condition),) = item.items()
            transition = _transition(name, condition, item_path, problems, scope)
        else:
            continue  # the schema names the wrong shape
        if transition:
            transitions.append(transition)
    return OnClause(next=transitions, publish=publish)


def build_retry(value: Any, path: Path, problems: Problems) -> RetrySpec | None:
    if isinstance(value, str):
        try:
            value = inline.parse_params(value)
        except inline.InlineSyntaxError as exc:
            problems.add(path, f"invalid retry {value!r}: {exc}")
            return None
        for key in value:
            if key not in _RETRY_KEYS:
                problems.add(path, f"unknown retry parameter '{key}'")
        for key in ("count", "delay"):
            if key not in value:
                problems.add(path, f"missing required retry parameter '{key}'")
            elif not isinstance(value[key], (int, float)) and not has_expression(value[key]):
                problems.add(path, f"retry {key} must be a number or an expression, got {value[key]!r}")
        _check_inline_backoff(value, path, problems)
    if not isinstance(value, dict):
        return None
    return RetrySpec(
        count=value.get("count", 0),
        delay=value.get("delay", 0),
        break_on=value.get("break-on"),
        continue_on=value.get("continue-on"),
        backoff=value.get("backoff"),
        max_delay=value.get("max-delay"),
        jitter=value.get("jitter"),
    )


def _check_inline_backoff(value: dict[str, Any], path: Path, problems: Problems) -> None:
    """The schema's checks of backoff, max-delay and jitter, for the ``count=N delay=N`` string form."""
    for key, minimum in (("backoff", 1), ("max-delay", 0)):
        number = value.get(key)
        if number is None or has_expression(number):
            continue
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number < minimum:
            problems.add(path, f"retry {key} must be a number of at least {minimum} or an expression, "
                               f"got {number!r}")  # fmt: skip
    jitter = value.get("jitter")
    if jitter is not None and not isinstance(jitter, bool) and not has_expression(jitter):
        problems.add(path, f"retry jitter must be a boolean or an expression, got {jitter!r}")


def build_with_items(value: Any, path: Path, problems: Problems) -> list[WithItem]:
    items = [(value, path)] if isinstance(value, str) else []
    if isinstance(value, list):
        items = [(item, path + (i,)) for i, item in enumerate(value) if isinstance(item, str)]
    result = []
    for text, item_path in items:
        try:
            result.append(WithItem(*inline.parse_with_items(text)))
        except inline.InlineSyntaxError as exc:
            problems.add(item_path, f"invalid with-items: {exc}")
    return result


def _requires(
    data: dict[str, Any], path: Path, problems: Problems, scope: Scope, owner: str | None
) -> tuple[list[str], list[list[str]]]:
    """``requires``: the task names it stands for (selectors resolved) and the selectors' tags."""
    value = data.get("requires")
    items = [(value, path)]
    if isinstance(value, list):
        items = [(item, path + (i,)) for i, item in enumerate(value)]
    names: list[str] = []
    selectors: list[list[str]] = []
    for item, item_path in items:
        tags = tag_deps.selector_tags(item)
        if tags is not None:
            selectors.append(tags)
            found = tag_deps.resolve(tags, item_path, problems, scope.task_tags, owner=owner)
        elif isinstance(item, str | int):
            found = [str(item)]
            if scope.wf_type == "reverse" and found[0] not in scope.task_names:
                problems.add(item_path, f"task '{found[0]}' does not exist")
        else:
            continue  # absent, or a shape the schema names
        names += [name for name in found if name not in names]
    return names, selectors


def _common(
    data: dict[str, Any], path: Path, problems: Problems, scope: Scope, owner: str | None = None
) -> dict[str, Any]:
    """The keyword arguments shared by TaskSpec and TaskDefaultsSpec."""
    fields: dict[str, Any] = {
        key.replace("-", "_"): build_on_clause(data.get(key), path + (key,), problems, scope)
        for key in ON_KEYS
    }
    for key in (
        "wait-before",
        "wait-after",
        "timeout",
        "pause-before",
        "concurrency",
        "fail-on",
        "safe-rerun",
        "queue",
    ):
        fields[key.replace("-", "_")] = data.get(key)
    fields["retry"] = build_retry(data.get("retry"), path + ("retry",), problems)
    fields["requires"], fields["requires_tags"] = _requires(
        data, path + ("requires",), problems, scope, owner
    )
    fields["raw"] = data
    return fields


def build_task_defaults(data: Any, path: Path, problems: Problems, scope: Scope) -> TaskDefaultsSpec:
    if not isinstance(data, dict):
        return TaskDefaultsSpec()
    if problems.validate:
        problems.add_all(path, schema.check(data, schema.TASK_DEFAULTS))
        problems.check_expressions(data, path)
    return TaskDefaultsSpec(**_common(data, path, problems, scope))


def _target(data: dict[str, Any], path: Path, problems: Problems) -> dict[str, Any]:
    """type, action/workflow and the inline params of whichever is given."""
    if "action" in data and "workflow" in data:
        problems.add(path, "a task can't have both 'action' and 'workflow'")
    kind = "workflow" if "workflow" in data and "action" not in data else "action"
    text = data.get(kind)
    if kind == "action" and text is None:
        return {"type": "action", "action": "std.noop"}
    name = str(text)
    params: dict[str, Any] = {}
    if isinstance(text, str):
        try:
            name, params = inline.parse_command(text)
        except inline.InlineSyntaxError as exc:
            problems.add(path + (kind,), f"invalid inline parameters: {exc}")
    return {"type": kind, kind: name, "inline_params": params}


def _check_name(name: str, data: dict[str, Any], path: Path, problems: Problems) -> None:
    if len(name) > MAX_TASK_NAME:
        problems.add(path, f"task name is longer than {MAX_TASK_NAME} characters")
    elif "join" in data and len(name) > MAX_JOIN_TASK_NAME:
        problems.add(path, f"the name of a task with 'join' is longer than {MAX_JOIN_TASK_NAME} characters")


def build_task(name: str, data: Any, path: Path, problems: Problems, scope: Scope) -> TaskSpec:
    if not isinstance(data, dict):
        problems.add(path, f"a task must be a mapping, got {type(data).__name__}")
        data = {}
    if problems.validate:
        task_schema = schema.REVERSE_TASK if scope.wf_type == "reverse" else schema.DIRECT_TASK
        problems.add_all(path, schema.check(data, task_schema))
        problems.check_expressions(data, path)
    _check_name(name, data, path, problems)
    join = data.get("join")
    join_tags = tag_deps.selector_tags(join) or []
    if join_tags:
        # Every carrier of the tags has an implicit transition here (mistral.workflow.direct).
        join = "all"
        tag_deps.resolve(join_tags, path + ("join",), problems, scope.task_tags, owner=name)
    return TaskSpec(
        name=name,
        **_target(data, path, problems),
        input=data.get("input", {}),
        description=data.get("description"),
        tags=_str_list(data.get("tags")),
        publish=_dict_or_none(data.get("publish")),
        publish_on_error=_dict_or_none(data.get("publish-on-error")),
        publish_on_skip=_dict_or_none(data.get("publish-on-skip")),
        join=join if isinstance(join, (str, int)) else None,
        join_tags=join_tags,
        with_items=build_with_items(data.get("with-items"), path + ("with-items",), problems),
        keep_result=data.get("keep-result", True),
        target=data.get("target"),
        **_common(data, path, problems, scope, owner=name),
    )
