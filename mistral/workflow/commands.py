"""What the decision logic asks the engine to do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAIL = "fail"
SUCCEED = "succeed"
PAUSE = "pause"
NOOP = "noop"
ENGINE_COMMANDS = frozenset({FAIL, SUCCEED, PAUSE, NOOP})


@dataclass(frozen=True)
class RunTask:
    """Start task ``name``; ``triggered_by`` is the task execution whose transition chose it."""

    name: str
    triggered_by: str | None = None


@dataclass(frozen=True)
class EngineCommand:
    """fail / succeed / pause / noop, with the optional ``msg``."""

    name: str
    msg: str | None = None


@dataclass(frozen=True)
class MissedJoin:
    """A completed task that did not lead to the join task ``name`` (one dead inbound branch)."""

    name: str
    from_task: str


@dataclass
class Decision:
    """The outcome of one finished task: the commands in order, and whether its error is handled."""

    commands: list[RunTask | EngineCommand] = field(default_factory=list)
    missed_joins: list[MissedJoin] = field(default_factory=list)
    error_handled: bool = False
    #: ``publish`` of the advanced on-* form that applied: {"branch": {...}, "global": {...}}.
    publish: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"commands": [command_to_dict(c) for c in self.commands]}


def command_to_dict(cmd: RunTask | EngineCommand) -> dict[str, Any]:
    if isinstance(cmd, RunTask):
        return {"run": cmd.name, "triggered_by": cmd.triggered_by}
    return {"command": cmd.name, "msg": cmd.msg}


def command_from_dict(data: dict[str, Any]) -> RunTask | EngineCommand:
    if "run" in data:
        return RunTask(data["run"], data.get("triggered_by"))
    return EngineCommand(data["command"], data.get("msg"))
