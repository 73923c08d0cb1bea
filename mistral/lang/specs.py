"""Immutable spec objects built from DSL v2 documents.

The objects are frozen dataclasses: attributes cannot be reassigned. Their
dict and list values are plain containers for easy use; treat them as
read-only, since specs are cached and shared.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mistral.utils.inputs import Param


@dataclass(frozen=True)
class Transition:
    """One entry of ``on-success``/``on-error``/``on-complete``/``on-skip``.

    ``name`` is a task name or, when ``is_command``, one of fail/succeed/pause/noop
    with ``params`` such as ``{"msg": ...}``. ``condition`` is None when the
    transition is unconditional, else an expression (or literal) to evaluate.
    """

    name: str
    condition: Any = None
    is_command: bool = False
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishSpec:
    """The advanced ``publish`` of an on-* clause: branch, global and atomic variables."""

    branch: dict[str, Any] = field(default_factory=dict)
    global_: dict[str, Any] = field(default_factory=dict)
    atomic: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OnClause:
    """A normalised on-* keyword: the transitions in order, plus the advanced-form publish."""

    next: list[Transition] = field(default_factory=list)
    publish: PublishSpec | None = None


@dataclass(frozen=True)
class RetrySpec:
    """``count`` and ``delay`` are ints or expressions; break-on/continue-on are expressions.

    ``backoff`` (>= 1), ``max_delay`` (>= 0) and ``jitter`` (a bool) may be expressions too; None
    leaves each off, so a retry without them waits ``delay`` every time.
    """

    count: Any = 0
    delay: Any = 0
    break_on: Any = None
    continue_on: Any = None
    backoff: Any = None
    max_delay: Any = None
    jitter: Any = None


@dataclass(frozen=True)
class WithItem:
    """``var in collection``; ``collection`` is an expression string or a literal list."""

    var: str
    collection: Any


@dataclass(frozen=True, kw_only=True)
class _Common:
    """Keywords shared by tasks and ``task-defaults``."""

    retry: RetrySpec | None = None
    wait_before: Any = None
    wait_after: Any = None
    timeout: Any = None
    pause_before: Any = None
    concurrency: Any = None
    fail_on: Any = None
    safe_rerun: Any = None
    #: The named queue whose external workers run the task's actions (None: an executor runs them).
    queue: Any = None
    on_success: OnClause | None = None
    on_error: OnClause | None = None
    on_complete: OnClause | None = None
    on_skip: OnClause | None = None
    #: task names, those of ``{tags: [...]}`` selectors included (resolved when parsed)
    requires: list[str] = field(default_factory=list)
    #: the tags of each ``{tags: [...]}`` selector in ``requires``, as written
    requires_tags: list[list[str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw)


@dataclass(frozen=True, kw_only=True)
class TaskDefaultsSpec(_Common):
    """``task-defaults``: used by each task that lacks the keyword (``requires`` is unioned)."""


@dataclass(frozen=True, kw_only=True)
class TaskSpec(_Common):
    """One task. ``type`` is ``"action"`` or ``"workflow"``; a task with neither runs ``std.noop``.

    ``input`` is the ``input`` keyword (a dict, or one expression); ``inline_params``
    come from the action/workflow string. ``keep_result`` defaults to True.
    """

    name: str
    type: str = "action"
    action: str | None = None
    workflow: str | None = None
    inline_params: dict[str, Any] = field(default_factory=dict)
    input: Any = field(default_factory=dict)
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    publish: dict[str, Any] | None = None
    publish_on_error: dict[str, Any] | None = None
    publish_on_skip: dict[str, Any] | None = None
    #: ``"all"`` for ``join: {tags: [...]}``, whose tags are in ``join_tags``
    join: str | int | None = None
    join_tags: list[str] = field(default_factory=list)
    with_items: list[WithItem] = field(default_factory=list)
    keep_result: Any = True
    target: str | None = None

    @property
    def merged_input(self) -> Any:
        """``input`` with the inline params on top (Mistral's code lets inline win).

        An ``input`` given as one expression is returned as is: the engine merges
        after evaluating it.
        """
        if isinstance(self.input, dict):
            return {**self.input, **self.inline_params}
        return self.input


@dataclass(frozen=True, kw_only=True)
class WorkflowSpec:
    """One workflow. ``name`` is ``<workbook>.<short_name>`` inside a workbook."""

    name: str
    short_name: str
    workbook_name: str | None = None
    type: str = "direct"
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    input: list[Param] = field(default_factory=list)
    input_string: str = ""
    interface: dict[str, list[Any]] = field(default_factory=lambda: {"input": [], "output": []})
    output: Any = None
    output_on_error: Any = None
    vars: dict[str, Any] = field(default_factory=dict)
    task_defaults: TaskDefaultsSpec = field(default_factory=TaskDefaultsSpec)
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    definition: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    #: Values that pure functions elsewhere derive from this spec (``workflow.direct``'s inbound
    #: tasks), kept with it so they live and die with it (architecture rule 6); not a field of
    #: the spec itself: a copy (``dataclasses.replace``) starts with none.
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw)


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    """An ad-hoc action. ``base_input`` is ``base-input`` merged with the inline params of ``base``."""

    name: str
    short_name: str
    base: str
    workbook_name: str | None = None
    base_params: dict[str, Any] = field(default_factory=dict)
    base_input: dict[str, Any] = field(default_factory=dict)
    input: list[Param] = field(default_factory=list)
    input_string: str = ""
    output: Any = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    definition: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw)


@dataclass(frozen=True)
class WorkflowListSpec:
    version: str = "2.0"
    workflows: list[WorkflowSpec] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class WorkbookSpec:
    name: str
    version: str = "2.0"
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    workflows: list[WorkflowSpec] = field(default_factory=list)
    actions: list[ActionSpec] = field(default_factory=list)
    definition: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.raw)
