"""Writing execution and task events for the notifier (architecture rule 2).

Each state change that makes an event adds one ``notification_events`` row per
publisher that wants it, in the transaction of the change itself: committed
together, rolled back together. The notifier delivers them after the commit.
An execution with no publishers (none in its ``notify`` parameter, none in
``[notifier] notify``) costs a few dictionary lookups per state change.
"""

from __future__ import annotations

import logging
from typing import Any

from mistral import config
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import outbox
from mistral.exceptions import InputError
from mistral.notifier import events
from mistral.utils import uuids

LOG = logging.getLogger(__name__)

#: ``[notifier] notify`` as last parsed: (its text, its publishers)
_configured: tuple[str, list[dict[str, Any]]] = ("", [])

#: execution id -> its own publishers (``params.notify``), so a task's change needs no lookup of its
#: execution. NOTE: a pure function of the row (architecture rule 6): ``notify`` never changes once an
#: execution exists, and ids are never reused.
_own: dict[str, list[dict[str, Any]]] = {}
#: Executions remembered at most; past it the cache starts again (a miss costs one identity-map lookup).
OWN_CACHE_SIZE = 10_000


def configured_publishers() -> list[dict[str, Any]]:
    """``[notifier] notify``; a value that does not parse is logged and notifies nobody."""
    global _configured
    text = config.CONF.notifier.notify or ""
    if text != _configured[0]:
        try:
            parsed = events.parse_configured(text)
        except InputError as error:
            LOG.error("Ignoring [notifier] notify: %s", error)
            parsed = []
        _configured = (text, parsed)
    return _configured[1]


def _own_publishers(wf_ex: models.WorkflowExecution) -> list[dict[str, Any]]:
    own = _own.get(wf_ex.id)
    if own is None:
        own = _valid((wf_ex.params or {}).get("notify"), wf_ex.id)
        if len(_own) >= OWN_CACHE_SIZE:
            _own.clear()
        _own[wf_ex.id] = own
    return own


def _valid(notify: Any, wf_ex_id: str) -> list[dict[str, Any]]:
    """The publishers of ``notify`` that are well formed; the others are logged and skipped.

    NOTE: the API refuses a bad ``notify`` with 400; one can still arrive through a cron or
    event trigger's ``workflow_params``, and must not make the engine fail the execution.
    """
    valid = []
    for i, publisher in enumerate(notify if isinstance(notify, list) else [notify] if notify else []):
        try:
            valid += events.parse_publishers([publisher], f"notify[{i}]")
        except InputError as error:
            LOG.warning("Execution %s notifies nobody for this publisher: %s", wf_ex_id, error)
    return valid


def _publishers(own: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(stream suffix, publisher): the configured ones first, then the execution's own."""
    configured = configured_publishers()
    if not own and not configured:
        return []
    return [(f"conf{i}", p) for i, p in enumerate(configured)] + [(str(i), p) for i, p in enumerate(own)]


def workflow_changed(wf_ex: models.WorkflowExecution, old: str | None) -> None:
    """``wf_ex`` went from ``old`` (None: created) to its current state."""
    publishers = _publishers(_own_publishers(wf_ex))
    if not publishers:
        return
    event = events.workflow_event(old, wf_ex.state)
    if event is not None:
        _add(wf_ex, event, events.workflow_payload(wf_ex, event, utcnow()), publishers)


def task_changed(task_ex: models.TaskExecution, old: str | None) -> None:
    """``task_ex`` went from ``old`` (None: created) to its current state."""
    if _own.get(task_ex.workflow_execution_id) == [] and not configured_publishers():
        return  # the common case: nobody listens, known without a lookup
    wf_ex = db_api.peek_workflow_execution(task_ex.workflow_execution_id)
    if wf_ex is None:
        return
    publishers = _publishers(_own_publishers(wf_ex))
    if not publishers:
        return
    event = events.task_event(old, task_ex.state)
    if event is not None:
        _add(wf_ex, event, events.task_payload(task_ex, event, utcnow()), publishers)


def _add(
    wf_ex: models.WorkflowExecution,
    event: str,
    payload: dict[str, Any],
    publishers: list[tuple[str, dict[str, Any]]],
) -> None:
    now = utcnow()
    added = 0
    for suffix, publisher in publishers:
        if not events.wants(publisher, event):
            continue
        db_api.add_notification_event(
            {
                "id": uuids.generate(),
                "stream": f"{wf_ex.id}/{suffix}",
                "execution_id": wf_ex.id,
                "project_id": wf_ex.project_id,
                "event": event,
                "publisher": publisher,
                "payload": payload,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
        added += 1
    if added:
        outbox.note_events(added)
