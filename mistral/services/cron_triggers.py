"""Use cases for cron triggers: creating them, and the pure rules of when and how they fire.

The API creates, reads and deletes the rows; the engine's cron job
(``mistral.engine.cron``) fires them. Bad input is an ``InputError`` (400).
Time comes from the module-level ``clock`` so tests drive it without sleeping.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from croniter import CroniterError, croniter

from mistral import context
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.exceptions import DuplicateError, InputError
from mistral.lang import stored
from mistral.services import trusts
from mistral.services.definitions import check_scope
from mistral.utils.inputs import checked_workflow_input

#: Naive UTC now; replaced in tests.
clock: Callable[[], datetime.datetime] = utcnow

#: What ``first_execution_time`` may look like (UTC); the client sends the first.
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
#: Column sizes of cron_triggers_v2, checked so a long value is a 400 and not a database error.
MAX_LENGTH = {"name": 200, "pattern": 100}
#: Missed ticks counted one by one before the description just says "at least".
MAX_COUNTED_TICKS = 1000
#: Ids of the executions a trigger starts: a retried firing finds the execution it already made.
EXECUTION_ID_NAMESPACE = uuid.UUID("6f1f2a4e-6a53-5c1e-9b64-3d0c9a4f7e21")


# -- patterns and times ---------------------------------------------------------------


def check_pattern(pattern: str) -> str:
    """A 5-field cron pattern (or an ``@hourly``-style alias) that matches some time; else a 400."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise InputError("Cron trigger 'pattern' must be a non-empty string such as '*/5 * * * *'")
    pattern = " ".join(pattern.split())
    if len(pattern) > MAX_LENGTH["pattern"]:
        raise InputError(f"Cron trigger 'pattern' is longer than {MAX_LENGTH['pattern']} characters")
    if not pattern.startswith("@") and len(pattern.split()) != 5:
        raise InputError(
            f"Invalid cron pattern '{pattern}': it needs 5 fields (minute hour day month weekday)"
        )
    try:
        next_tick(pattern, datetime.datetime(2000, 1, 1))
    except (CroniterError, ValueError, KeyError) as error:
        raise InputError(f"Invalid cron pattern '{pattern}': {error}") from error
    return pattern


def next_tick(pattern: str, after: datetime.datetime) -> datetime.datetime:
    """The first time strictly after ``after`` that ``pattern`` matches (naive UTC, whole minutes)."""
    return croniter(pattern, after).get_next(datetime.datetime)


def parse_time(value: Any) -> datetime.datetime:
    if isinstance(value, str):
        for fmt in TIME_FORMATS:
            try:
                return datetime.datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
    raise InputError(
        f"Cron trigger 'first_execution_time' must look like 'YYYY-MM-DD HH:MM' (UTC), got {value!r}"
    )


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        # NOTE: Mistral converts a numeric string ("42", as its own API tests send it).
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(
            f"Cron trigger 'remaining_executions' must be a whole number of at least 1, got {value!r}"
        )
    return value


# -- creating, reading, deleting ------------------------------------------------------


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"Cron trigger '{name}' must be a non-empty string")
    if name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
        raise InputError(f"Cron trigger '{name}' is longer than {MAX_LENGTH[name]} characters")
    return value


def _object(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = values.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"Cron trigger '{name}' must be a JSON object, got {type(value).__name__}")
    return value


def _workflow(values: Mapping[str, Any], params: Mapping[str, Any]) -> models.WorkflowDefinition:
    """The workflow by id, or by name in ``params.namespace`` and then the default namespace."""
    wf_id, wf_name = _text(values, "workflow_id"), _text(values, "workflow_name")
    if not (wf_id or wf_name):
        raise InputError("Cron trigger needs 'workflow_id' or 'workflow_name'")
    namespace = params.get("namespace") or ""
    if not isinstance(namespace, str):
        raise InputError("Cron trigger 'workflow_params.namespace' must be a string")
    if wf_id:
        wf_def = db_api.get_workflow_definition(wf_id, None)
        if wf_name and wf_name != wf_def.name:
            raise InputError(f"'workflow_name' {wf_name} is not the name of workflow {wf_id} ({wf_def.name})")
        return wf_def
    return db_api.find_workflow_definition(wf_name or "", list(dict.fromkeys([namespace, ""])))


def _schedule(values: Mapping[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """Pattern, first time, count and the first due time, by Mistral's rules."""
    pattern = values.get("pattern")
    pattern = check_pattern(pattern) if pattern not in (None, "") else None
    first = values.get("first_execution_time")
    first_time = parse_time(first) if first not in (None, "") else None
    count = _count(values.get("remaining_executions"))
    if pattern is None and first_time is None:
        raise InputError("Cron trigger needs a 'pattern' or a 'first_execution_time' (or both)")
    if first_time is not None and first_time <= now:
        raise InputError(
            f"Cron trigger 'first_execution_time' {first_time:%Y-%m-%d %H:%M} is not in the future "
            f"(now is {now:%Y-%m-%d %H:%M:%S} UTC)"
        )
    if pattern is None:
        if count not in (None, 1):
            raise InputError(
                "Cron trigger without a 'pattern' fires once: 'remaining_executions' must be 1 or left out"
            )
        count = 1
    next_time = first_time if first_time is not None else next_tick(pattern or "", now)
    return {
        "pattern": pattern,
        "first_execution_time": first_time,
        "next_execution_time": next_time,
        "remaining_executions": count,
    }


@db_api.retry_on_transient
def create_cron_trigger(values: Mapping[str, Any]) -> models.CronTrigger:
    """Create the trigger, with a Keystone trust from the caller when authentication is on."""
    with trusts.Delegation(context.current()) as delegation:
        return _create_cron_trigger(values, delegation)


def _create_cron_trigger(values: Mapping[str, Any], delegation: trusts.Delegation) -> models.CronTrigger:
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("Cron trigger 'name' is required and must be a non-empty string")
    _text(values, "name")
    schedule = _schedule(values, clock())
    wf_input = _object(values, "workflow_input")
    params = _object(values, "workflow_params")
    wf_def = _workflow(values, params)
    spec = stored.workflow_spec(wf_def.name, wf_def.spec or {}, wf_def.workbook_name)
    checked_workflow_input(spec.name, spec.input, wf_input)
    row = {
        "name": name,
        "workflow_id": wf_def.id,
        "workflow_name": wf_def.name,
        "workflow_input": wf_input,
        "workflow_params": params,
        "scope": check_scope(values.get("scope") or "private"),
        **schedule,
    }
    # NOTE: the trust is made only once the input is known to be good and the trigger new, so a 400 or
    # a 409 leaves no trust behind; the check runs again with the insert.
    _check_not_a_copy(row)
    row["trust_id"] = delegation.trust_id()
    with db_api.transaction():
        _check_not_a_copy(row)
        return db_api.create_cron_trigger(row)


def _check_not_a_copy(row: Mapping[str, Any]) -> None:
    """Refuse a second trigger that would start the same workflow the same way at the same times.

    NOTE: Mistral refuses it (409) by a unique key over these fields; the JSON input and params
    are compared here, as its key compares their hashes.
    """
    for other in db_api.find_cron_triggers_like(row):
        if (other.workflow_input or {}) == row["workflow_input"] and (other.workflow_params or {}) == row[
            "workflow_params"
        ]:
            raise DuplicateError(
                "cron trigger",
                f"{row['name']} starts the workflow with the same input, params, pattern, "
                f"first_execution_time and remaining_executions as {other.name}",
            )


def get_cron_trigger(identifier: str) -> models.CronTrigger:
    return db_api.get_cron_trigger(identifier)


@db_api.retry_on_transient
def delete_cron_trigger(identifier: str) -> None:
    """Delete the trigger, then its trust (a trust already gone does not fail the delete)."""
    trigger = db_api.get_cron_trigger(identifier)
    trust_id = trigger.trust_id
    db_api.delete_cron_trigger(trigger.id)
    trusts.delete_trust(trust_id)


# -- firing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """One firing of a trigger: what to start and where the trigger goes next."""

    due: datetime.datetime
    #: None: this is the last firing and the trigger is deleted.
    next_time: datetime.datetime | None
    #: Executions left after this one (None: unlimited).
    remaining: int | None
    #: Later ticks that were also due when it fired: one execution stands for them all.
    missed: int = 0
    #: True when more ticks were missed than ``missed`` counts.
    missed_at_least: bool = False
    last_missed: datetime.datetime | None = None


def plan_firing(
    pattern: str | None, due: datetime.datetime, remaining: int | None, now: datetime.datetime
) -> Firing:
    """Where a trigger due at ``due`` goes when it fires at ``now`` (pure; ``now >= due``).

    NOTE: ticks missed while no engine ran fire once, not once each: the
    trigger moves to the first tick after ``now``, and the count of skipped
    ticks goes into the execution's description. The firing counts as one
    execution against ``remaining_executions``.
    """
    if not pattern:
        return Firing(due, None, 0)
    missed, at_least, last = 0, False, None
    tick = next_tick(pattern, due)
    while tick <= now:
        missed, last = missed + 1, tick
        if missed >= MAX_COUNTED_TICKS:
            at_least, tick = True, next_tick(pattern, now)
            break
        tick = next_tick(pattern, tick)
    left = None if remaining is None else remaining - 1
    next_time = None if left is not None and left <= 0 else tick
    return Firing(due, next_time, left, missed, at_least, last)


def execution_id(trigger_id: str, due: datetime.datetime) -> str:
    """The same id for the same trigger and due time, so a repeated firing is recognized."""
    return str(uuid.uuid5(EXECUTION_ID_NAMESPACE, f"{trigger_id}@{due.isoformat()}"))


def execution_description(trigger: models.CronTrigger, firing: Firing) -> str:
    """Mistral's JSON description of a cron-started execution, plus a note on missed ticks."""
    text = f"Workflow execution created by cron trigger '({trigger.id})'."
    body: dict[str, Any] = {
        "description": text,
        "triggered_by": {"type": "cron_trigger", "id": trigger.id, "name": trigger.name},
    }
    if firing.missed:
        count = f"at least {firing.missed}" if firing.missed_at_least else str(firing.missed)
        body["description"] = (
            f"{text} It was due at {firing.due:%Y-%m-%d %H:%M:%S} and {count} later tick(s) up to "
            f"{firing.last_missed:%Y-%m-%d %H:%M:%S} were missed while no engine ran; "
            "this one execution stands for all of them."
        )
        body["missed_ticks"] = firing.missed
    return json.dumps(body)
