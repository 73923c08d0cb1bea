"""Work that leaves a transaction only after it commits (DESIGN rule 2).

Handlers append to the outbox of the current unit of work; the engine sends
its contents once the transaction has committed. What a crash between commit
and send loses, the recovery loop finds again in the database.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mistral import config

LOG = logging.getLogger(__name__)


@dataclass
class Outbox:
    #: (target executor or None, action request)
    actions: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    #: ids of finished sub-workflow executions whose parent task must hear of it
    finished_subworkflows: list[str] = field(default_factory=list)
    #: (operation, wf_ex_id, argument): pause/resume/cancel cascading to sub-workflows
    cascade: list[tuple[str, str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.actions or self.finished_subworkflows or self.cascade)

    def clear(self) -> None:
        self.actions.clear()
        self.finished_subworkflows.clear()
        self.cascade.clear()


_current: contextvars.ContextVar[Outbox | None] = contextvars.ContextVar("mistral_outbox", default=None)


def current() -> Outbox:
    box = _current.get()
    if box is None:
        raise RuntimeError("No outbox: engine handlers must run inside Engine operations")
    return box


@contextlib.contextmanager
def collecting() -> Iterator[Outbox]:
    """A fresh outbox for one operation (nested operations share the outer one)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    box = Outbox()
    token = _current.set(box)
    try:
        yield box
    finally:
        _current.reset(token)


def chunks(requests: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(requests), size):
        yield requests[i : i + size]


def group_by_target(
    actions: list[tuple[str | None, dict[str, Any]]],
) -> dict[str | None, list[dict[str, Any]]]:
    grouped: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for target, request in actions:
        grouped[target].append(request)
    return grouped


def batch_size() -> int:
    return config.CONF.engine.action_batch_size
