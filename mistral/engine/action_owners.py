"""Which task and workflow execution an action execution belongs to, remembered from its insert.

NOTE: an action's task and workflow never change, so this is a pure function of
the rows (architecture rule 6): a result for an action this engine created finds the
workflow to lock without a query, one statement less per hop. An entry leaves
when its result looks it up (each action has one result); a result this engine
does not know (another engine created the action, a repeat, a restart) is
looked up in the database. The rows are read again, under the lock, before
anything is applied, so an entry of a transaction that rolled back changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mistral.db import api as db_api

#: Most entries kept (about 350 bytes each): actions in flight beyond that are looked up in the
#: database. NOTE: with several engines the results of a share of this engine's actions go to
#: the others and their entries stay until pushed out, so the bound is what they cost.
MAX_ENTRIES = 10_000

Owner = tuple[str | None, str | None]

_known: dict[str, tuple[str, str]] = {}
_lock = threading.Lock()


def remember(rows: Iterable[Mapping[str, Any]]) -> None:
    """Note the owners of action rows being inserted (those of a task only)."""
    found = []
    for row in rows:
        wf_ex_id = (row.get("runtime_context") or {}).get("workflow_execution_id")
        if row.get("task_execution_id") and wf_ex_id:
            found.append((row["id"], (row["task_execution_id"], wf_ex_id)))
    if not found:
        return
    with _lock:
        _known.update(found)
        while len(_known) > MAX_ENTRIES:
            del _known[next(iter(_known))]  # the oldest: the longest in flight, or never answered


def find(ids: Sequence[str]) -> dict[str, Owner]:
    """For each known action execution: its task and that task's workflow execution (None for ad-hoc runs)."""
    owners: dict[str, Owner] = {}
    with _lock:
        for action_ex_id in ids:
            owner = _known.pop(action_ex_id, None)
            if owner is not None:
                owners[action_ex_id] = owner
    missing = [i for i in ids if i not in owners]
    if missing:
        owners.update(db_api.find_action_owners(missing))
    return owners


def clear() -> None:
    with _lock:
        _known.clear()
